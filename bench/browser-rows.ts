// Browser entry (scripts/browser-test.mjs --entry bench/browser-rows.ts): bench/row-strategies.ts
// on the page's adapter (SwiftShader in Debian's Chromium), one reported line per kernel.
import { publishChecks, timesLine } from './candidate-times.ts';
import { rowStrategies } from './row-strategies.ts';

await publishChecks(async () => (await rowStrategies()).map((r) => ({ name: r.name,
  detail: `template ${r.template} ${(r.ms[r.template] ?? NaN).toFixed(2)} ms, fastest ${r.fastest} ${r.ms[r.fastest]!.toFixed(2)} ms; ${timesLine(r.ms)}` })));
