/**
 * Every schedule candidate the autotuner may pick is itself tested against the float64
 * interpreter (not only the winner): all matmul tiles over awkward shapes, transposed and batched
 * operands, with prologue and epilogue fusion; all row-reduction strategies (serial, workgroup
 * trees of each width, subgroup sums) for sums, maxima and fused softmax/layernorm; all attention
 * schedules (query rows per invocation, workgroup sizes).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Schedule } from '../codegen/kernels.ts';
import { scheduleFits } from '../codegen/matmul.ts';
import { interpret } from '../ir/interpret.ts';
import type { Node } from '../ir/node.ts';
import { runPasses } from '../ir/passes/index.ts';
import { engine, execute, inputsOf } from '../runtime/engine.ts';
import { compileProgram } from '../runtime/program.ts';
import { hostDataOf, storageOf } from '../runtime/storage.ts';
import { CANDIDATES, heuristicSchedule, keyOf, rowCandidates, tuneKernel } from '../runtime/tuner.ts';
import { schedule as scheduleGraph } from '../ir/schedule/index.ts';
import { layerNorm, nn, relu, softmax, type Tensor } from '../index.ts';
import { attentionCandidates } from '../codegen/attention.ts';
import { allclose, rnd } from './helpers.ts';

/** Runs t's graph with every kernel forced to schedule `s` and compares to the interpreter. */
async function runWith(t: Tensor, s: Schedule, msg: string): Promise<void> {
  const e = await engine();
  const roots = runPasses([t.node]);
  const inputs = inputsOf(roots);
  const program = await compileProgram(roots, inputs, e.dev, e.pipelines, { fuse: true, skipRules: [], schedule: (k) => (k.kind === 'elementwise' ? undefined : s) });
  const { data } = execute(e, program, roots, roots, inputs.map((n) => storageOf(n)), inputs, true);
  const got = (await data!)[0]!;
  const expected = interpret([t.node], (n: Node) => hostDataOf(n)!)[0]!;
  allclose(got, expected, { rtol: 2e-4, atol: 2e-5, msg });
}

// Every candidate compiles one kernel per shape (shapes are baked into WGSL, and the large register
// tiles take seconds to compile on lavapipe), so each candidate sees one awkward shape with a fused
// prologue, a transposed operand and an epilogue; matmul.test.ts sweeps many more shapes with the
// default schedule.
const shapes: [number, number, number][] = [[17, 63, 65]];

test('every matmul tile candidate is correct on awkward shapes, transposes, batches and fusions', async () => {
  const e = await engine();
  const cands = CANDIDATES.filter((c) => scheduleFits(c, e.dev.caps));
  assert.ok(cands.length >= 6);
  for (const [M, K, N] of shapes) {
    const a = rnd([M, K], { seed: M }), bT = rnd([N, K], { seed: N + 1 }), bias = rnd([N], { seed: 3 });
    const t = relu(a.mul(0.5).matmul(bT.T).add(bias)); // prologue scale, transposed view, epilogue bias + relu
    for (const c of cands) await runWith(t, c, `${M}x${K}x${N} ${JSON.stringify(c)}`);
  }
  const x = rnd([2, 1, 5, 7], { seed: 9 }), y = rnd([3, 7, 6], { seed: 10 }); // broadcast batch
  for (const c of cands.slice(0, 3)) await runWith(x.matmul(y), c, `batched ${JSON.stringify(c)}`);
});

test('every row-reduction strategy is correct (serial, trees, subgroups), fused or not', async () => {
  const e = await engine();
  const x = rnd([5, 300], { seed: 11 }), z = rnd([37, 3, 9], { seed: 12 });
  const graphs: [string, Tensor][] = [
    ['max last', x.max(1)], ['sum middle', z.sum(1)], ['sum first+last', z.sum([0, 2])], ['softmax', softmax(x)], ['layernorm', layerNorm(x)],
  ];
  for (const [name, t] of graphs) {
    const k = scheduleGraph(runPasses([t.node]), { fuse: true, maxBuffers: 8 }).find((kk) => kk.kind === 'row');
    assert.ok(k && k.kind === 'row', `${name} has a row kernel`);
    const cands = rowCandidates(k, e.dev.caps);
    assert.ok(cands.length >= 4);
    for (const c of cands) await runWith(t, c, `${name} ${JSON.stringify(c)}`);
  }
  if (e.dev.caps.subgroups) assert.ok(rowCandidates({ kind: 'row', full: [4, 64], axes: [1], stages: [], reads: [] }, e.dev.caps).some((c) => c.subgroups));
});

test('every attention candidate is correct (rows per invocation with a tail, fused or read scores)', async () => {
  const e = await engine();
  const q = rnd([2, 7, 5], { seed: 15 }), k = rnd([2, 9, 5], { seed: 16 }), v = rnd([2, 9, 3], { seed: 17 });
  const t = nn.scaledDotProductAttention(q, k, v, { causal: true, scale: 0.7 });
  const kernels = scheduleGraph(runPasses([t.node]), { fuse: true, maxBuffers: 8 });
  const att = kernels.find((kk) => kk.kind === 'attention');
  assert.ok(att && att.kind === 'attention' && att.scores, `one attention kernel with fused scores: ${kernels.map((kk) => kk.kind)}`);
  const cands = attentionCandidates(att, e.dev.caps);
  assert.ok(cands.some((c) => c.tq === 4) && cands.some((c) => c.tq === 8), 'candidates with a partial last block of rows (7 queries)');
  for (const c of cands) await runWith(t, c, `attention ${JSON.stringify(c)}`);
});

test('the tuner times candidates, rejects none of the correct ones, and never loses to the heuristic', async () => {
  const e = await engine();
  const a = rnd([96, 80], { seed: 13 }), b = rnd([80, 72], { seed: 14 });
  const k = scheduleGraph(runPasses([a.matmul(b).node]), { fuse: true, maxBuffers: 8 })[0]!;
  assert.is(k.kind, 'matmul');
  if (k.kind !== 'matmul') return;
  const h = heuristicSchedule(k);
  const res = await tuneKernel(k, e, [h, ...CANDIDATES.slice(0, 4)]);
  assert.ok(res.timings.length >= 2);
  assert.ok(res.timings.every((t) => t.ok), 'all candidates agree with the heuristic');
  assert.is(res.timings[0]!.schedule, keyOf(h), 'the heuristic is timed first');
  const winner = res.timings.find((t) => t.schedule === keyOf(res.winner));
  assert.ok(winner && winner.ok, 'the winner is a candidate that agreed with the heuristic');
  assert.ok(winner!.ms <= res.timings[0]!.ms, `the winner (${winner!.schedule}, ${winner!.ms} ms) is at least as fast as the heuristic (${res.timings[0]!.ms} ms), as measured`);
});

test.run();
