/**
 * What recording source lines costs (ops/inspect/sources.ts): graph building — 64 chained
 * elementwise ops on a fresh input, repeated — with capture off (the default: one null check per
 * node made) and on (a stack trace per node), interleaved in one run, and the null check alone.
 * Nothing runs on the GPU.
 *
 *   npx tsx bench/source-capture.ts
 */
import { tensor, type Tensor } from '../index.ts';
import { nodeHook } from '../ir/node.ts';
import { captureSources } from '../ops/inspect/sources.ts';
import { heading, isMain, ratio, table, timeInterleaved, writeResults } from './common.ts';

const OPS = 64, GRAPHS = 50;

function build(): void {
  for (let g = 0; g < GRAPHS; g++) {
    let t: Tensor = tensor(new Float32Array(16));
    for (let i = 0; i < OPS; i++) t = i % 2 ? t.mul(1.0001) : t.add(0.5);
  }
}

export async function main(): Promise<void> {
  heading(`bench/source-capture.ts: building ${GRAPHS} graphs of ${OPS} ops, source capture off vs on`);
  const t = await timeInterleaved({
    off: async () => { captureSources(false); build(); },
    on: async () => { captureSources(true); build(); captureSources(false); },
  }, { reps: 15, warmup: 3 });
  const per = (ms: number) => (ms * 1e3) / (GRAPHS * OPS);
  table(['capture', 'ms (median)', 'us per op'], [['off', t.off!.median, per(t.off!.median)], ['on', t.on!.median, per(t.on!.median)]]);
  console.log(`on / off: ${ratio(t.on!.median / t.off!.median)}`);
  // What "off" adds to Node.make: the null check alone, timed over many calls.
  captureSources(false);
  const probe = tensor(new Float32Array(1)).node, calls = 1e7;
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) nodeHook.onMake?.(probe);
  const nsPerCheck = ((performance.now() - t0) * 1e6) / calls;
  console.log(`the check when off: ${nsPerCheck.toFixed(2)} ns per node made, ${((100 * nsPerCheck) / (per(t.off!.median) * 1e3)).toFixed(4)}% of building one op, per node the op makes`);
  writeResults('source-capture', { offMs: t.off!.median, onMs: t.on!.median, usPerOpOff: per(t.off!.median), usPerOpOn: per(t.on!.median), nsPerCheck });
}

if (isMain(import.meta.url)) await main();
