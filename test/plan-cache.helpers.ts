/**
 * A child process of test/plan-cache.test.ts (not a test file): jits the test's model once, with
 * the plan cache in the directory given as argument, and prints one JSON line: the plan-cache
 * counters and the largest error of the result against the float64 interpreter.
 */
import * as ts from '../index.ts';
import { planCache, planCacheIdle } from '../runtime/plan-cache.ts';
import { evalF64 } from './grad-helpers.ts';
import { model } from './plan-cache.model.helpers.ts';

Object.assign(planCache, { enabled: true, dir: process.argv[2]!, minKernels: 2 });
const { f, x } = model();
const [want] = evalF64([f(x)]);
const got = await (await ts.jit(f)(x)).data();
let err = 0;
for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i]! - want![i]!) / (1e-5 + 1e-4 * Math.abs(want![i]!)));
await planCacheIdle(); // the plan is written in the background: wait before exiting
const s = ts.stats();
console.log(`RESULT ${JSON.stringify({ hits: s.planCacheHits, misses: s.planCacheMisses, rejected: s.planCacheRejected, err, values: Array.from(got) })}`);
process.exit(0);
