/**
 * Row-reduction strategies on this adapter (bench/row-strategies.ts): the template heuristic vs
 * the fastest strategy per kernel, and every strategy's time. The same tables for Chromium's
 * SwiftShader: `node scripts/browser-test.mjs --entry bench/browser-rows.ts`.
 *
 * Standalone: npx tsx bench/rows.ts
 */
import { engine } from '../runtime/engine.ts';
import { measuredRow } from '../runtime/defaults.ts';
import { keyOf } from '../runtime/tuner.ts';
import { timesLine } from './candidate-times.ts';
import { rowStrategies } from './row-strategies.ts';
import { environment, heading, isMain, printEnvironment, ratio, table, writeResults } from './common.ts';

if (isMain(import.meta.url)) {
  const env = await environment();
  printEnvironment(env);
  const res = await rowStrategies();
  heading('row kernels: the template heuristic vs the fastest strategy (ms per kernel)');
  table(['kernel', 'template', 'ms', 'fastest', 'ms', 'speedup'], res.map((r) => [r.name, r.template, r.ms[r.template] ?? NaN, r.fastest, r.ms[r.fastest]!, ratio(r.ms[r.template]! / r.ms[r.fastest]!)]));
  const m = measuredRow((await engine()).dev);
  console.log(`measured default for this adapter (runtime/defaults.ts): ${m ? keyOf(m) : 'none (template heuristic)'}`);
  for (const r of res) console.log(`  ${r.name}: ${timesLine(r.ms)}`);
  console.log(`results: ${writeResults('rows', { env, res })}`);
}
