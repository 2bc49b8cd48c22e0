/**
 * Matmul register tiles on this adapter (bench/matmul-strategies.ts): per matmul kernel of the W5
 * block and the MLP Adam step, the template heuristic, the measured default (runtime/defaults.ts)
 * and the fastest tile, and every candidate's time. The same for Chromium's SwiftShader:
 * `node scripts/browser-test.mjs --entry bench/browser-matmul.ts`.
 *
 * Standalone: npx tsx bench/matmul-tiles.ts
 */
import { timesLine } from './candidate-times.ts';
import { matmulTiles } from './matmul-strategies.ts';
import { environment, heading, isMain, printEnvironment, ratio, table, writeResults } from './common.ts';

if (isMain(import.meta.url)) {
  const env = await environment();
  printEnvironment(env);
  const res = await matmulTiles((c) => console.log(`  ${c.name}: ${timesLine(c.ms)}`));
  heading('matmul tiles: the template heuristic, the measured default, the fastest (ms per kernel)');
  table(['kernel', 'template ms', 'measured default', 'ms', 'fastest', 'ms', 'default / fastest'], res.map((c) => [c.name, c.ms[c.template] ?? NaN, c.measured ?? '-',
    c.measured ? c.ms[c.measured] ?? NaN : NaN, c.fastest, c.ms[c.fastest]!, c.measured ? ratio(c.ms[c.measured]! / c.ms[c.fastest]!) : '-']));
  console.log(`results: ${writeResults('matmul-tiles', { env, res })}`);
}
