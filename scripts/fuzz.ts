/**
 * `npm run fuzz -- --n 10000 --seed S`: the differential fuzzer (test/fuzz/) run long. Prints
 * progress every 50 programs, each failure shrunk to code, and a summary; exits 1 on any failure.
 */
import { getDevice } from '../index.ts';
import { tuning } from '../runtime/tuner.ts';
import { fuzz } from '../test/fuzz/check-helpers.ts';

const arg = (name: string, def: number) => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? Number(process.argv[i + 1]) : def; };
const n = arg('n', 1000), seed = arg('seed', Date.now() % 100000);
tuning.enabled = false; // small kernels: measuring schedules would only cost time
const f16 = (await getDevice()).caps.f16;
const t0 = performance.now();
console.log(`fuzz: ${n} programs from seed ${seed} (float16 ${f16 ? 'on' : 'off'})`);
const res = await fuzz({ n, seed, f16, log: (l) => console.log(l) });
const secs = ((performance.now() - t0) / 1000).toFixed(0);
console.log(`fuzz: ${res.programs} programs, ${res.runs} runs in ${secs} s: ${res.failures.length} failures`);
process.exit(res.failures.length ? 1 : 0);
