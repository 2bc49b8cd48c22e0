/**
 * Tuning modes (runtime/tuner.ts): background (default) never delays a call — the first call runs
 * with heuristic schedules, tuning runs between calls and a better schedule is swapped in;
 * blocking tunes before the first run; off never tunes. Tiny kernels and a small budget keep it fast.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import type { Tensor } from '../index.ts';
import { runPasses } from '../ir/passes/index.ts';
import { engine, execute, inputsOf } from '../runtime/engine.ts';
import { compileProgram } from '../runtime/program.ts';
import { storageOf } from '../runtime/storage.ts';
import { CANDIDATES, compileSize, heuristicSchedule, keyOf, pruneCandidates, rowCandidates, tuneLog } from '../runtime/tuner.ts';
import { generate } from '../codegen/kernels.ts';
import { schedule as scheduleGraph } from '../ir/schedule/index.ts';
import { adapterClass, measuredMatmul, measuredRow } from '../runtime/defaults.ts';
import { close, evalF64, rt } from './grad-helpers.ts';

const { jit, stats, tuning, tuningComplete } = ts;
const saved = { ...tuning };
test.before(() => { Object.assign(tuning, { enabled: true, budgetMs: 40, minWork: 1, cacheFile: '' }); });
test.after(() => { Object.assign(tuning, saved); });

const mlp = (w: Tensor, b: Tensor) => (x: Tensor) => ts.relu(x.matmul(w).add(b)).sum(1);

test('background: the first call runs untuned; tuning completes between calls; later calls agree with the interpreter', async () => {
  tuning.mode = 'background';
  const w = rt([24, 20], 1), b = rt([20], 2), x = rt([16, 24], 3), f = mlp(w, b);
  const [want] = evalF64([f(x)]);
  const before = stats();
  const jf = jit(f);
  close(await (await jf(x)).data(), want!, 'first call', { rtol: 1e-4, atol: 1e-5 });
  const first = stats();
  assert.is(first.kernelsTuned, before.kernelsTuned, 'the first call did not wait for tuning');
  assert.ok(first.tuningQueued > 0, 'its kernels are queued for background tuning');
  await tuningComplete();
  const done = stats();
  assert.is(done.tuningQueued, 0);
  assert.ok(done.kernelsTuned > first.kernelsTuned, 'the kernels were tuned in the background');
  for (let i = 0; i < 2; i++) close(await (await jf(x)).data(), want!, `call ${i + 2}`, { rtol: 1e-4, atol: 1e-5 });
  assert.is(jf.traceCount, 1);
});

test('blocking: the first call waits for tuning; off: nothing is tuned or queued', async () => {
  tuning.mode = 'blocking';
  const w = rt([28, 12], 4), b = rt([12], 5), x = rt([8, 28], 6), f = mlp(w, b);
  const [want] = evalF64([f(x)]);
  const before = stats();
  close(await (await jit(f)(x)).data(), want!, 'blocking', { rtol: 1e-4, atol: 1e-5 });
  assert.ok(stats().kernelsTuned > before.kernelsTuned, 'tuned before the first call returned');
  assert.is(stats().tuningQueued, 0);
  tuning.mode = 'off';
  const w2 = rt([20, 36], 7), x2 = rt([12, 20], 8), g = mlp(w2, rt([36], 9));
  const [want2] = evalF64([g(x2)]);
  const mid = stats();
  close(await (await jit(g)(x2)).data(), want2!, 'off', { rtol: 1e-4, atol: 1e-5 });
  assert.is(stats().kernelsTuned, mid.kernelsTuned);
  assert.is(stats().tuningQueued, 0);
  await tuningComplete(); // resolves at once: nothing pending
  tuning.mode = 'background';
});

test('a schedule found later is swapped into the compiled program, and results stay right', async () => {
  const e = await engine();
  const a = rt([18, 30], 10), w = rt([30, 22], 11);
  const t = a.matmul(w).mul(2);
  const [want] = evalF64([t]);
  const roots = runPasses([t.node]), inputs = inputsOf(roots);
  const other = CANDIDATES.find((c) => c.tm === 4 && c.tn === 4 && c.shared)!;
  const swap: { to?: () => void } = {};
  const later = (k: { kind: string }) => (k.kind === 'matmul' ? new Promise<typeof other>((r) => { swap.to = () => r(other); }) : undefined);
  const program = await compileProgram(roots, inputs, e.dev, e.pipelines, { fuse: true, later });
  const run = async () => (await execute(e, program, roots, roots, inputs.map((n) => storageOf(n)), inputs, true).data!)[0]!;
  const before = program.steps.map((s) => s.code.wgsl).join('\n');
  close(await run(), want!, 'heuristic', { rtol: 1e-4, atol: 1e-5 });
  const swapped = stats().kernelsSwapped;
  assert.ok(swap.to, 'the matmul kernel asked for a later schedule');
  swap.to!();
  await tuningComplete();
  assert.is(stats().kernelsSwapped, swapped + 1);
  assert.is.not(program.steps.map((s) => s.code.wgsl).join('\n'), before, 'the tuned kernel replaced the heuristic one');
  close(await run(), want!, 'after the swap', { rtol: 1e-4, atol: 1e-5 });
});

test('candidates that cannot win are pruned before compiling: padded matmul tiles, row trees wider than the row', async () => {
  const e = await engine();
  const kernelOf = (t: Tensor, kind: string) => scheduleGraph(runPasses([t.node]), { fuse: true, maxBuffers: 8 }).find((k) => k.kind === kind)!;
  const mm = kernelOf(rt([4, 40], 12).matmul(rt([40, 300], 13)), 'matmul');
  if (mm.kind !== 'matmul') throw new Error('no matmul kernel');
  const h = heuristicSchedule(mm), cands = [h, ...CANDIDATES];
  const kept = pruneCandidates(mm, cands);
  assert.is(keyOf(kept[0]!), keyOf(h), 'the heuristic stays first');
  assert.ok(kept.length < cands.length, 'some tiles are pruned for a 4-row output');
  assert.ok(!kept.some((c) => 'tm' in c && c.tm * c.wgM >= 64), 'no tile 64 rows tall or taller is kept');
  const row = kernelOf(rt([64, 20], 14).sum(1), 'row');
  if (row.kind !== 'row') throw new Error('no row kernel');
  const rc = pruneCandidates(row, rowCandidates(row, e.dev.caps));
  assert.ok(rc.slice(1).every((c) => 'serial' in c && (c.serial || c.wg <= 32)), `trees no wider than 32 for rows of 20: ${rc.map(keyOf)}`);
});

test('measured defaults apply per adapter class and shape; the untuned program with them is right', async () => {
  const e = await engine();
  const info = (description: string) => ({ vendor: '', architecture: '', device: '', description });
  assert.is(adapterClass(info('llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)')), 'lavapipe');
  assert.is(adapterClass(info('SwiftShader Device (Subzero)')), 'swiftshader');
  assert.is(adapterClass(info('NVIDIA H200')), 'other');
  const kernelOf = (t: Tensor) => scheduleGraph(runPasses([t.node]), { fuse: true, maxBuffers: 8 }).find((k) => k.kind === 'matmul')!;
  const big = kernelOf(rt([64, 64], 15).matmul(rt([64, 128], 16))), thin = kernelOf(rt([64, 64], 17).matmul(rt([64, 40], 18)));
  if (big.kind !== 'matmul' || thin.kind !== 'matmul') throw new Error('no matmul kernel');
  const lavapipe = { adapterInfo: info('llvmpipe'), caps: e.dev.caps };
  assert.is(keyOf(measuredMatmul(big, lavapipe)!), '8x8/8x8', 'a full 64x64 output tile: the measured lavapipe default');
  assert.is(measuredMatmul(thin, lavapipe), undefined, 'too few columns: the template heuristic');
  const huge = kernelOf(rt([512, 256], 24).matmul(rt([256, 1024], 25)));
  if (huge.kind !== 'matmul') throw new Error('no matmul kernel');
  assert.is(keyOf(measuredMatmul(huge, lavapipe)!), '4x8/16x16', '2^27 multiply-adds: the large register tile');
  const swiftshader = { adapterInfo: info('SwiftShader Device (Subzero)'), caps: e.dev.caps };
  assert.is(keyOf(measuredMatmul(huge, swiftshader)!), '8x8/16x8', 'SwiftShader: 128x64 tiles');
  assert.is(keyOf(measuredMatmul(big, swiftshader)!), '8x8/8x8', 'SwiftShader, 64 rows: 64x64 tiles');
  assert.is(measuredMatmul(big, { adapterInfo: info('NVIDIA H200'), caps: e.dev.caps }), undefined, 'an unmeasured class');
  assert.equal(measuredRow(lavapipe), { serial: true, wg: 64 }, 'lavapipe rows: one invocation per row');
  assert.equal(measuredRow({ adapterInfo: info('SwiftShader Device (Subzero)'), caps: e.dev.caps }), { serial: true, wg: 64 }, 'SwiftShader rows too');
  assert.is(measuredRow({ adapterInfo: info('NVIDIA H200'), caps: e.dev.caps }), undefined, 'an unmeasured class keeps the template heuristic');
  tuning.mode = 'off';
  const a = rt([64, 64], 19), b = rt([64, 128], 20);
  const [want] = evalF64([a.matmul(b)]);
  close(await a.matmul(b).data(), want!, 'untuned matmul with the default of this adapter', { rtol: 1e-4, atol: 1e-5 });
  tuning.mode = 'background';
});

test('background: candidates costly to compile wait until the user is quiet, then are tuned; results stay right', async () => {
  tuning.mode = 'background';
  const e = await engine();
  const saved = { activeCompileSize: tuning.activeCompileSize, quietMs: tuning.quietMs };
  // Any candidate over twice the heuristic's compiled size counts as costly; a user who called in the last minute as active.
  Object.assign(tuning, { activeCompileSize: 0, quietMs: 60_000 });
  try {
    const w = rt([32, 128], 21), b = rt([128], 22), x = rt([64, 32], 23), f = mlp(w, b);
    const [want] = evalF64([f(x)]);
    const mm = scheduleGraph(runPasses([f(x).node]), { fuse: true, maxBuffers: e.dev.caps.maxBuffers }).find((k) => k.kind === 'matmul')!;
    if (mm.kind !== 'matmul') throw new Error('no matmul kernel');
    const size = (s: Parameters<typeof generate>[2]) => compileSize(generate(mm, e.dev.caps, s).wgsl);
    const bound = 2 * size(heuristicSchedule(mm));
    const costly = new Set(CANDIDATES.filter((c) => size(c) > bound).map(keyOf));
    assert.ok(costly.has('8x8/8x16'), 'large register tiles are costly to compile');
    const before = stats(), logged = tuneLog.length;
    const jf = jit(f);
    close(await (await jf(x)).data(), want!, 'first call', { rtol: 1e-4, atol: 1e-5 });
    // Wait (bounded) until tuning reached the costly candidates and put them off.
    for (let i = 0; i < 3000 && stats().tuningDeferred === before.tuningDeferred; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(stats().tuningDeferred > before.tuningDeferred, 'costly candidates were deferred while the user was active');
    // The waiting matmul gives its turn to the kernel queued after it (the row sum), which is tuned meanwhile.
    const label = String(mm.node).replace(/#\d+/, '');
    const matmulTuned = () => tuneLog.some((l) => l.kernel.replace(/#\d+/, '') === label && tuneLog.indexOf(l) >= logged);
    for (let i = 0; i < 3000 && stats().kernelsTuned === before.kernelsTuned; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(stats().kernelsTuned > before.kernelsTuned, 'the next kernel was tuned while the matmul waited');
    assert.not.ok(matmulTuned(), 'the matmul waits for its costly candidates');
    close(await (await jf(x)).data(), want!, 'a call meanwhile', { rtol: 1e-4, atol: 1e-5 });
    await tuningComplete(); // waiting for tuning lets the deferred candidates run
    assert.ok(stats().kernelsTuned > before.kernelsTuned);
    const log = [...tuneLog].reverse().find((l) => l.kernel.replace(/#\d+/, '') === label);
    assert.ok(log && log.timings.some((t) => costly.has(t.schedule)), 'the costly candidates were timed in the end');
    const order = log!.timings.map((t) => t.schedule);
    const lastCheap = Math.max(...order.map((k, i) => (costly.has(k) ? -1 : i))), firstCostly = order.findIndex((k) => costly.has(k));
    assert.ok(firstCostly > lastCheap, `costly candidates after all others: ${order.join(' ')}`);
    close(await (await jf(x)).data(), want!, 'after tuning', { rtol: 1e-4, atol: 1e-5 });
  } finally { Object.assign(tuning, saved); }
});

test('compileSize counts a function once per call site', () => {
  const one = 'fn f(x: f32) -> f32 { return x * 2.0; }\nfn main() { let a = f(1.0); }';
  const three = 'fn f(x: f32) -> f32 { return x * 2.0; }\nfn main() { let a = f(1.0); let b = f(2.0); let c = f(3.0); }';
  const body = 'fn f(x: f32) -> f32 { return x * 2.0; }'.length;
  assert.is(compileSize(one), one.length);
  assert.is(compileSize(three), three.length + 2 * body);
});

test.run();
