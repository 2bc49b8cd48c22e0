// Browser entry (scripts/browser-test.mjs --entry bench/browser-matmul.ts): bench/matmul-strategies.ts
// on the page's adapter (SwiftShader in Debian's Chromium), one reported line per kernel.
import { publishChecks, timesLine } from './candidate-times.ts';
import { matmulTiles } from './matmul-strategies.ts';

await publishChecks(async () => (await matmulTiles()).map((r) => ({ name: r.name,
  detail: `template ${r.template} ${(r.ms[r.template] ?? NaN).toFixed(2)} ms, measured default ${r.measured ?? '-'}, fastest ${r.fastest} ${r.ms[r.fastest]!.toFixed(2)} ms; ${timesLine(r.ms)}` })));
