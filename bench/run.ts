/**
 * Runs every benchmark in sequence, each in its own process (a fresh device, buffer pool and
 * program cache; tfjs only where it is compared), then prints the targets of all of them from
 * bench/results/*.json.
 *
 *   npm run bench                       all of them
 *   npm run bench -- elementwise kernels   a subset, by name
 * Environment: TESSERA_BENCH_QUICK=1 skips the slowest sizes (matmul 2048).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, heading } from './common.ts';

const ALL = ['ceilings', 'elementwise', 'train-step', 'kernels', 'rows', 'schedule', 'compile', 'source-capture', 'tfjs-backend', 'onnx', 'attention', 'gpt'];
const picked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = picked.length ? ALL.filter((n) => picked.includes(n)) : ALL;
const unknown = picked.filter((n) => !ALL.includes(n));
if (unknown.length) { console.error(`unknown bench: ${unknown.join(', ')} (have ${ALL.join(', ')})`); process.exit(2); }

const tsx = join(BENCH_DIR, '..', 'node_modules', '.bin', 'tsx');
const status: { name: string; code: number | null; seconds: number }[] = [];
for (const name of names) {
  const t0 = performance.now();
  const r = spawnSync(tsx, [join(BENCH_DIR, `${name}.ts`)], { stdio: 'inherit', env: process.env });
  status.push({ name, code: r.status, seconds: (performance.now() - t0) / 1000 });
}

heading('summary: targets (from bench/results/*.json)');
for (const s of status) {
  const file = join(BENCH_DIR, 'results', `${s.name}.json`);
  console.log(`\n${s.name}: exit ${s.code}, ${s.seconds.toFixed(0)} s`);
  if (!existsSync(file)) continue;
  const res = JSON.parse(readFileSync(file, 'utf8')) as { targets?: { label: string; met: boolean | null; detail: string }[]; copyGBs?: number; fmaGFLOPs?: number };
  if (res.copyGBs) console.log(`  copy ${res.copyGBs.toFixed(2)} GB/s, fma ${res.fmaGFLOPs!.toFixed(2)} GFLOP/s`);
  for (const t of res.targets ?? []) console.log(`  ${t.met === null ? '[N/A]   ' : t.met ? '[MET]   ' : '[MISSED]'} ${t.label}: ${t.detail}`);
}
process.exit(status.every((s) => s.code === 0) ? 0 : 1);
