/**
 * The persistent plan cache (runtime/plan-cache.ts): a program compiled again in a fresh engine or
 * a fresh process is built from its stored plan (no scheduling, no codegen) and computes what the
 * interpreter does; corrupted, stale or ill-fitting entries are ignored and replaced; the cache
 * can be turned off and is bounded; a plan stored while background tuning was running resumes it.
 * Every test uses a temporary cache directory.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ts from '../index.ts';
import { engine } from '../runtime/engine.ts';
import { evictPlans, planCache, planCacheIdle } from '../runtime/plan-cache.ts';
import { tuning } from '../runtime/tuner.ts';
import { close, evalF64 } from './grad-helpers.ts';
import { model } from './plan-cache.model.helpers.ts';

const savedCache = { ...planCache }, savedTuning = { ...tuning };
const dirs: string[] = [];
/** What a new engine would have: no programs compiled in memory (pipelines stay: they are keyed by WGSL). */
const forgetPrograms = async () => (await engine()).programs.clear();
/** A fresh, empty cache directory in use (and no program compiled in memory). */
async function useDir(): Promise<string> {
  await forgetPrograms();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-plans-'));
  dirs.push(dir);
  Object.assign(planCache, { enabled: true, dir, minKernels: 2 });
  return dir;
}
test.after(() => {
  Object.assign(planCache, savedCache);
  Object.assign(tuning, savedTuning);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const planFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => join(dir, f));
const TOL = { rtol: 1e-4, atol: 1e-5 };

/** Runs the model jitted (a new jit each time) and checks it against the interpreter; returns the values and the counters' changes. */
async function run(seed = 1) {
  const { f, x } = model(seed);
  const [want] = evalF64([f(x)]);
  const s0 = ts.stats();
  const got = await (await ts.jit(f)(x)).data();
  await planCacheIdle();
  close(got, want!, 'jitted model', TOL);
  const s1 = ts.stats();
  return { got, hits: s1.planCacheHits - s0.planCacheHits, misses: s1.planCacheMisses - s0.planCacheMisses, rejected: s1.planCacheRejected - s0.planCacheRejected };
}

test('a second compile in a fresh engine is built from the stored plan and computes the same', async () => {
  tuning.mode = 'off';
  const dir = await useDir();
  const first = await run();
  assert.equal([first.hits, first.misses], [0, 1]);
  assert.is(planFiles(dir).length, 1, 'the plan was stored');
  await forgetPrograms();
  const second = await run();
  assert.equal([second.hits, second.rejected], [1, 0]);
  assert.equal(Array.from(second.got), Array.from(first.got), 'bit for bit the program compiled the first time');
  // Another graph (other shapes' data, same structure): the same plan serves it, with its own values.
  await forgetPrograms();
  assert.is((await run(7)).hits, 1);
});

test('a second process hits the cache and computes what the interpreter does', async () => {
  const dir = await useDir();
  const child = () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const r = spawnSync(join(here, '..', 'node_modules', '.bin', 'tsx'), [join(here, 'plan-cache.helpers.ts'), dir],
      { encoding: 'utf8', env: { ...process.env, TESSERA_TUNE: 'off' }, maxBuffer: 1 << 24 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) assert.unreachable(`child failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
    return JSON.parse(line!.slice(7)) as { hits: number; misses: number; rejected: number; err: number; values: number[] };
  };
  const a = child(), b = child();
  assert.equal([a.hits, a.misses], [0, 1], 'the first process compiles');
  assert.equal([b.hits, b.rejected], [1, 0], 'the second builds the program from the plan');
  assert.ok(a.err <= 1 && b.err <= 1, `within tolerance of the interpreter: ${a.err}, ${b.err}`);
  assert.equal(b.values, a.values);
});

test('corrupted, tampered, stale or ill-fitting entries are ignored and replaced', async () => {
  tuning.mode = 'off';
  const dir = await useDir();
  await run();
  const [file] = planFiles(dir);
  const good = readFileSync(file!, 'utf8');
  const entry = JSON.parse(good);
  const sum = (plan: unknown) => createHash('sha256').update(JSON.stringify(plan)).digest('hex');
  const withPlan = (change: (p: any) => void) => { const e = structuredClone(entry); change(e.plan); e.sum = sum(e.plan); return JSON.stringify(e); };
  const bad: [string, string][] = [
    ['truncated', good.slice(0, good.length >> 1)],
    ['not JSON', '\u0000\u0001garbage'],
    ['a WGSL edited (checksum differs)', good.replace('fn main', 'fn mian')],
    ['another format', JSON.stringify({ ...entry, format: 99 })],
    ['another key', JSON.stringify({ ...entry, key: '0'.repeat(64) })],
    ['a slot out of range (checksum recomputed)', withPlan((p) => { p.steps[0].slots[0] = p.slotBytes.length + 3; })],
    ['another input count', withPlan((p) => { p.inputSlots += 1; })],
    ['a missing step field', withPlan((p) => { delete p.steps[0].grid; })],
    ['a WGSL index out of range', withPlan((p) => { p.steps[0].w = p.wgsl.length; })],
  ];
  for (const [what, text] of bad) {
    writeFileSync(file!, text);
    await forgetPrograms();
    const r = await run();
    assert.equal([r.hits, r.rejected], [0, 1], what);
    assert.is(readFileSync(file!, 'utf8'), good, `${what}: the entry was replaced by a good one`);
  }
  await forgetPrograms();
  assert.is((await run()).hits, 1, 'the replaced entry is used');
});

test('turned off, nothing is looked up or stored; small programs are not stored', async () => {
  tuning.mode = 'off';
  const dir = await useDir();
  planCache.enabled = false;
  const r = await run();
  assert.equal([r.hits, r.misses, r.rejected], [0, 0, 0]);
  assert.is(planFiles(dir).length, 0);
  Object.assign(planCache, { enabled: true, minKernels: 1000 });
  await forgetPrograms();
  const s = await run();
  assert.equal([s.hits, s.misses], [0, 0]);
  assert.is(planFiles(dir).length, 0);
});

test('the cache is bounded: least recently used plans are removed first', async () => {
  tuning.mode = 'off';
  const dir = await useDir();
  await run(1);
  const [older] = planFiles(dir);
  await forgetPrograms();
  // Another structure: one more kernel input (a second matmul weight shape).
  const x = ts.randn([5, 9], { seed: 3 }), w = ts.randn([9, 4], { seed: 4 });
  const g = (v: ts.Tensor) => ts.softmax(ts.relu(v.matmul(w)).mul(2.5), -1).add(ts.sum(v, [1], true));
  await (await ts.jit(g)(x)).data();
  await planCacheIdle();
  const newer = planFiles(dir).find((f) => f !== older)!;
  assert.ok(newer, 'two plans stored');
  const past = new Date(Date.now() - 3600_000);
  utimesSync(older!, past, past);
  planCache.maxBytes = statSync(newer).size + 1;
  await evictPlans();
  assert.equal(planFiles(dir), [newer]);
  planCache.maxBytes = savedCache.maxBytes;
});

test('a plan stored while background tuning ran resumes tuning when it is used', async () => {
  Object.assign(tuning, { enabled: true, mode: 'background', budgetMs: 40, minWork: 1, cacheFile: '' });
  const dir = await useDir();
  await run(11);
  const [file] = planFiles(dir);
  const pending = readFileSync(file!, 'utf8');
  assert.ok(JSON.parse(pending).plan.steps.some((s: { pending?: boolean }) => s.pending), 'stored with its kernels still being tuned');
  await ts.tuningComplete();
  await planCacheIdle();
  assert.not.ok(JSON.parse(readFileSync(file!, 'utf8')).plan.steps.some((s: { pending?: boolean }) => s.pending), 'stored again once tuned');
  // A process that stopped before tuning finished left the pending plan: the next one uses it and tunes.
  writeFileSync(file!, pending);
  await forgetPrograms();
  const { f, x } = model(11);
  const [want] = evalF64([f(x)]);
  const s0 = ts.stats();
  const jf = ts.jit(f);
  close(await (await jf(x)).data(), want!, 'from the pending plan', TOL);
  assert.is(ts.stats().planCacheHits - s0.planCacheHits, 1);
  await ts.tuningComplete();
  await planCacheIdle();
  assert.not.ok(JSON.parse(readFileSync(file!, 'utf8')).plan.steps.some((s: { pending?: boolean }) => s.pending), 'tuning resumed and the plan was stored again');
  close(await (await jf(x)).data(), want!, 'after tuning resumed', TOL);
  // Blocking mode tunes before the first run: a pending plan is compiled instead.
  writeFileSync(file!, pending);
  tuning.mode = 'blocking';
  await forgetPrograms();
  const b = await run(11);
  assert.equal([b.hits, b.misses, b.rejected], [0, 0, 0]);
});

test.run();
