// Browser entry (scripts/browser-test.mjs --entry bench/browser-matmul.ts): bench/matmul-strategies.ts
// on the page's adapter (SwiftShader in Debian's Chromium), one reported line per kernel.
import { matmulTiles } from './matmul-strategies.ts';

try {
  const info = (await navigator.gpu.requestAdapter())?.info;
  const res = await matmulTiles();
  const fmt = (v: number) => v.toFixed(2);
  (window as { __result?: unknown }).__result = { checks: res.map((r) => ({ name: `${r.name} on ${info?.vendor} ${info?.architecture}`, ok: true,
    detail: `template ${r.template} ${fmt(r.ms[r.template] ?? NaN)} ms, measured default ${r.measured ?? '-'}, fastest ${r.fastest} ${fmt(r.ms[r.fastest]!)} ms; ${Object.entries(r.ms).sort((a, b) => a[1] - b[1]).map(([s, v]) => `${s} ${fmt(v)}`).join(', ')}` })) };
} catch (e) {
  (window as { __result?: unknown }).__result = { error: String((e as Error)?.stack ?? e) };
}
