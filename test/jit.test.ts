/**
 * jit (ops/transforms.ts): per-signature tracing, replay without new pipelines and with one
 * submit, pytrees, donation and memory, a jitted train step, and clear errors.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import type { Tensor } from '../index.ts';
import { close, evalF64, rt } from './grad-helpers.ts';

const { jit, grad, valueAndGrad, stats, TesseraError } = ts;
const f32 = (x: Parameters<typeof ts.tensor>[0], o: Parameters<typeof ts.tensor>[1] = {}) => ts.tensor(x, { dtype: 'float32', ...o });
const isErr = (re: RegExp) => (e: unknown) => e instanceof TesseraError && re.test(e.message);
async function rejects(p: Promise<unknown>, re: RegExp, msg: string): Promise<void> {
  let err: unknown = null;
  try { await p; } catch (e) { err = e; }
  assert.ok(isErr(re)(err), `${msg}: expected a TesseraError matching ${re}, got ${err instanceof Error ? err.message : String(err)}`);
}

// ---- jit(f) equals f --------------------------------------------------------------------------
test('jit(f)(x) equals f(x): hand values and the float64 interpreter', async () => {
  const sq = jit((x: Tensor) => x.mul(x).add(1));
  close(await (await sq(f32([1, -2, 3]))).data(), [2, 5, 10], 'x*x + 1');
  const w = rt([4, 3], 1), b = rt([3], 2);
  const f = (x: Tensor) => ts.softmax(ts.tanh(x.matmul(w).add(b))).mul(ts.sum(x, 1, true));
  const jf = jit(f);
  for (const seed of [3, 4]) {
    const x = rt([5, 4], seed);
    const [want] = evalF64([f(x)]);
    close(await (await jf(x)).data(), want!, `jit softmax mlp (seed ${seed})`, { rtol: 1e-4, atol: 1e-6 });
  }
  assert.is(jf.traceCount, 1);
});

test('jit results that are views of a matmul, inputs returned unchanged, constants and captured tensors', async () => {
  const w = rt([3, 2], 5);
  const f = jit((x: Tensor) => ({ t: x.matmul(w).T, same: x, c: ts.full([2], 7), r: x.reshape([6]) }));
  const x = rt([2, 3], 6);
  const out = await f(x);
  const [want] = evalF64([x.matmul(w).T]);
  close(await out.t.data(), want!, 'matmul(x, w).T', { rtol: 1e-5 });
  close(await out.same.data(), await x.data(), 'identity');
  close(await out.c.data(), [7, 7], 'constant');
  close(await out.r.data(), await x.data(), 'reshape of the input');
});

test('jit(valueAndGrad(loss)) equals the eager valueAndGrad', async () => {
  const x = rt([6, 3], 10), y = rt([6, 1], 11);
  const loss = (w: Tensor, b: Tensor) => ts.mean(ts.square(ts.sigmoid(x.matmul(w).add(b)).sub(y)));
  const vg = valueAndGrad(loss, { argnums: [0, 1] });
  const jvg = jit(vg);
  const w = rt([3, 1], 12), b = rt([1], 13);
  const [v, [gw, gb]] = vg(w, b) as [Tensor, Tensor[]];
  const [jv, [jgw, jgb]] = (await jvg(w, b)) as [Tensor, Tensor[]];
  const [ev, egw, egb] = evalF64([v, gw!, gb!]);
  close(await jv.data(), ev!, 'value', { rtol: 1e-5 });
  close(await jgw!.data(), egw!, 'd/dw', { rtol: 1e-4, atol: 1e-6 });
  close(await jgb!.data(), egb!, 'd/db', { rtol: 1e-4, atol: 1e-6 });
  // grad of grad, jitted
  const d2 = jit((t: Tensor) => grad((u: Tensor) => ts.sum(grad((s: Tensor) => ts.sum(ts.sin(s)))(u)))(t));
  close(await (await d2(f32([0.3, 1.2]))).data(), [-Math.sin(Math.fround(0.3)), -Math.sin(Math.fround(1.2))], "jit sin''", { rtol: 1e-5 });
});

test('pytrees of tensors in and out, with static leaves and static arguments', async () => {
  let calls = 0;
  const f = jit((p: { a: Tensor; bs: Tensor[]; name: string }, scale: number) => {
    calls++;
    return { total: ts.sum(p.a).mul(scale), pair: [p.bs[0]!.add(p.a), p.bs[1]!.mul(scale)], name: p.name, n: 3 };
  });
  const a = f32([1, 2]), b0 = f32([10, 20]), b1 = f32([[1], [2]]);
  const r = await f({ a, bs: [b0, b1], name: 'x' }, 2);
  assert.is(r.name, 'x');
  assert.is(r.n, 3);
  assert.ok(Array.isArray(r.pair) && r.pair.length === 2);
  close(await r.total.data(), [6], 'total');
  close(await r.pair[0]!.data(), [11, 22], 'pair[0]');
  close(await r.pair[1]!.data(), [2, 4], 'pair[1]');
  assert.equal([...r.pair[1]!.shape], [2, 1]);
  // keys in another order are the same structure
  await f({ bs: [b0, b1], name: 'x', a }, 2);
  assert.is(f.traceCount, 1);
  assert.is(calls, 1);
});

// ---- retracing ------------------------------------------------------------------------------
test('retrace only on a new signature: shape, dtype, static argument or tree structure', async () => {
  const f = jit((x: Tensor, k: number) => x.mul(k).add(1));
  const val = async (p: Promise<Tensor>) => Array.from(await (await p).data());
  assert.equal(await val(f(f32([1, 2]), 3)), [4, 7]);
  assert.is(f.traceCount, 1);
  assert.equal(await val(f(f32([5, 6]), 3)), [16, 19], 'new values');
  assert.is(f.traceCount, 1, 'new values do not retrace');
  assert.equal(await val(f(f32([1, 2, 3]), 3)), [4, 7, 10], 'new shape');
  assert.is(f.traceCount, 2, 'a new shape retraces');
  assert.equal(await val(f(ts.tensor([1, 2], { dtype: 'int32' }), 3)), [4, 7], 'new dtype');
  assert.is(f.traceCount, 3, 'a new dtype retraces');
  assert.equal(await val(f(f32([1, 2]), 5)), [6, 11], 'new static');
  assert.is(f.traceCount, 4, 'a changed static argument retraces');
  assert.equal(await val(f(f32([7, 8]), 3)), [22, 25], 'old signature');
  assert.is(f.traceCount, 4, 'a signature seen before does not retrace');
  // a lazy (unrealized) argument has the same signature as a realized one
  assert.equal(await val(f(f32([1, 2]).mul(2), 3)), [7, 13]);
  assert.is(f.traceCount, 4);
  // static numbers are compared by value: NaN, Infinity and null are three signatures
  const c = jit((x: Tensor, v: number | null) => ts.minimum(x, v ?? 0));
  assert.equal(await val(c(f32([1, -1]), Infinity)), [1, -1]);
  assert.equal(await val(c(f32([1, -1]), null)), [0, -1]);
  assert.equal(await val(c(f32([1, -1]), -Infinity)), [-Infinity, -Infinity]);
  assert.is(c.traceCount, 3);
  const g = jit((xs: Tensor[]) => ts.sum(ts.stack(xs)));
  await g([f32([1]), f32([2])]);
  await g([f32([1]), f32([2]), f32([3])]);
  await g([f32([4]), f32([5])]);
  assert.is(g.traceCount, 2, 'a new tree structure retraces');
});

test('concurrent first calls of one signature trace once', async () => {
  const f = jit((x: Tensor) => x.add(1));
  const [a, b] = await Promise.all([f(f32([1])), f(f32([2]))]);
  close(await a.data(), [2], 'a');
  close(await b.data(), [3], 'b');
  assert.is(f.traceCount, 1);
});

test('replay compiles nothing new and submits once per call', async () => {
  const w = rt([8, 8], 20);
  const f = jit((x: Tensor) => ts.layerNorm(ts.gelu(x.matmul(w))).sum(0));
  const x1 = rt([4, 8], 21), x2 = rt([4, 8], 22);
  await x1.realize(); await x2.realize();
  await f(x1);
  const s0 = stats();
  const out = await f(x2);
  const s1 = stats();
  assert.is(s1.kernelsCompiled, s0.kernelsCompiled, 'no new pipelines');
  assert.is(s1.programsCompiled, s0.programsCompiled, 'no new programs');
  assert.is(s1.submits, s0.submits + 1, 'one submit');
  assert.is(s1.dispatches - s0.dispatches, f.dispatches, 'dispatches per call');
  assert.ok(f.dispatches >= 1 && f.dispatches <= 6, `dispatches ${f.dispatches}`);
  const [want] = evalF64([ts.layerNorm(ts.gelu(x2.matmul(w))).sum(0)]);
  close(await out.data(), want!, 'replayed result', { rtol: 1e-4, atol: 1e-5 });
});

// ---- train steps and memory -------------------------------------------------------------------
type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };
const initParams = (): Params => ({ w1: rt([3, 8], 30, -0.5, 0.5), b1: rt([8], 31, -0.1, 0.1), w2: rt([8, 2], 32, -0.5, 0.5), b2: rt([2], 33, -0.1, 0.1) });
const mlpLoss = (p: Params, x: Tensor, y: Tensor) => ts.mean(ts.square(ts.tanh(x.matmul(p.w1).add(p.b1)).matmul(p.w2).add(p.b2).sub(y)));
const sgdStep = (p: Params, x: Tensor, y: Tensor, lr: number) => {
  const [loss, g] = valueAndGrad(mlpLoss)(p, x, y) as [Tensor, Params];
  const next = ts.treeMap(p, (t, i) => t.sub(ts.treeFlatten(g).leaves[i]!.mul(lr))) as Params;
  return { params: next, loss };
};

test('a jitted SGD step on a tiny MLP makes the same updates as the eager step', async () => {
  const x = rt([16, 3], 34), y = rt([16, 2], 35);
  await ts.realizeAll([x, y]);
  const step = jit(sgdStep);
  let pe = initParams(), pj = initParams();
  const eagerLoss: number[] = [], jitLoss: number[] = [];
  for (let i = 0; i < 4; i++) {
    const e = sgdStep(pe, x, y, 0.5);
    await ts.realizeAll([...ts.treeFlatten(e.params).leaves, e.loss]);
    eagerLoss.push(await e.loss.item());
    pe = e.params;
    const j = await step(pj, x, y, 0.5);
    jitLoss.push(await j.loss.item());
    pj = j.params;
  }
  assert.is(step.traceCount, 1);
  close(jitLoss, eagerLoss, 'losses', { rtol: 1e-5 });
  assert.ok(jitLoss[3]! < jitLoss[0]!, `the loss goes down: ${jitLoss}`);
  for (const k of ['w1', 'b1', 'w2', 'b2'] as const) close(await pj[k].data(), await pe[k].data(), `param ${k}`, { rtol: 1e-5, atol: 1e-6 });
});

test('memory: 200 jitted train steps with donate leave live buffers and bytes allocated unchanged after the first', async () => {
  const x = rt([8, 3], 40), y = rt([8, 2], 41);
  await ts.realizeAll([x, y]);
  const step = jit((p: Params) => sgdStep(p, x, y, 0.1).params, { donate: [0] });
  let p = initParams();
  await ts.realizeAll(ts.treeFlatten(p).leaves);
  const old = p;
  p = await step(p);
  assert.ok(old.w1.isDisposed, 'donated parameters are consumed');
  assert.throws(() => old.w1.add(1), isErr(/dispose/));
  const s0 = stats();
  for (let i = 0; i < 200; i++) p = await step(p);
  const s1 = stats();
  assert.is(s1.liveBuffers, s0.liveBuffers, 'live buffers');
  assert.is(s1.bytesAllocated, s0.bytesAllocated, 'bytes allocated');
  assert.is(s1.kernelsCompiled, s0.kernelsCompiled, 'no new pipelines');
  assert.is(s1.submits - s0.submits, 200, 'one submit per step');
  assert.is(step.traceCount, 1);
  assert.ok(Number.isFinite(await ts.sum(p.w1).item()));
});

test('memory: dispose() after realize() or data() frees the buffer at once', async () => {
  const x = f32([1, 2, 3]);
  await x.realize();
  await x.data();
  const live = stats().liveBuffers;
  x.dispose();
  assert.is(stats().liveBuffers, live - 1);
});

test('memory: results fed back in (old ones disposed) also keep buffers constant', async () => {
  const f = jit((s: { a: Tensor; b: Tensor }) => ({ a: s.a.mul(0.5).add(s.b), b: ts.sqrt(ts.abs(s.b)).add(1) }));
  let s = { a: f32([1, 2, 3]), b: f32([4, 5, 6]) };
  await ts.realizeAll([s.a, s.b]);
  const next = await f(s);
  s.a.dispose(); s.b.dispose(); s = next;
  const s0 = stats();
  for (let i = 0; i < 200; i++) { const n = await f(s); s.a.dispose(); s.b.dispose(); s = n; }
  const s1 = stats();
  assert.is(s1.liveBuffers, s0.liveBuffers, 'live buffers');
  assert.is(s1.bytesAllocated, s0.bytesAllocated, 'bytes allocated');
  // the fixed point of b = sqrt(b) + 1 is the golden ratio squared
  close(await s.b.data(), [2.618034, 2.618034, 2.618034], 'fixed point', { rtol: 1e-5 });
});

test('donate: results that alias a donated argument stay valid; bad donate positions are errors', async () => {
  const f = jit((a: Tensor, b: Tensor) => ({ same: a, sum: a.add(b) }), { donate: [0] });
  const a = f32([1, 2]), b = f32([3, 4]);
  const out = await f(a, b);
  assert.ok(a.isDisposed && !b.isDisposed);
  close(await out.same.data(), [1, 2], 'alias of the donated argument');
  close(await out.sum.data(), [4, 6], 'sum');
  // one tensor passed both donated and not: the non-donated use keeps its buffer
  const c = f32([5, 6]);
  const out2 = await f(c, c);
  close(await out2.sum.data(), [10, 12], 'shared');
  close(await out2.same.data(), [5, 6], 'shared alias');
  await rejects(jit((x: Tensor) => x, { donate: [1] })(f32([1])), /^jit: donate 1 is out of range/, 'donate out of range');
  close(await b.add(1).data(), [4, 5], 'non-donated argument still usable');
});

// ---- bad input ----------------------------------------------------------------------------------
test('reading a traced tensor inside jit is a TesseraError; jit and the device keep working', async () => {
  const x = f32([1, -2]);
  const readsValue = jit(async (t: Tensor) => { const v = await t.sum().item(); return v > 0 ? t : t.neg(); });
  await rejects(readsValue(x), /^jit: .*traced/, 'await item() inside jit');
  await rejects(readsValue(x), /^jit: .*traced/, 'and again (a failed trace is not cached)');
  // value-dependent JS branching on a tensor
  const branches = jit((t: Tensor) => ((t.sum() as unknown as number) > 0 ? t : t.neg()));
  await rejects(branches(x), /^Tensor: .*JS number/, 'JS comparison of a tensor');
  // an async function that does not read still is not traceable
  await rejects(jit(async (t: Tensor) => t.add(1))(x), /^jit: .*Promise/, 'async function');
  // a traced tensor escaping the trace cannot be read later
  let leaked: Tensor | null = null;
  await jit((t: Tensor) => { leaked = t.mul(2); return t; })(x);
  await rejects(Promise.resolve().then(() => leaked!.data()), /traced/, 'leaked tracer (throws at the call)');
  close(await (await jit((t: Tensor) => t.mul(3))(x)).data(), [3, -6], 'jit after the errors');
  close(await x.add(1).data(), [2, -1], 'eager after the errors');
});

test('shape errors inside a jitted function fail at the call, for that signature only', async () => {
  const f = jit((t: Tensor) => t.reshape([2, 3]).sum(1));
  close(await (await f(f32([1, 2, 3, 4, 5, 6]))).data(), [6, 15], 'good shape');
  await rejects(f(f32([1, 2, 3, 4, 5])), /^reshape: cannot reshape \[5\]/, 'bad shape');
  close(await (await f(f32([0, 0, 1, 1, 1, 2]))).data(), [1, 4], 'good shape again');
  assert.is(f.traceCount, 2);
  const g = jit((a: Tensor, b: Tensor) => a.add(b));
  await rejects(g(f32([1, 2]), f32([1, 2, 3])), /^add: shapes \[2\] and \[3\]/, 'broadcast mismatch');
  // grad misuse inside jit
  await rejects(jit((t: Tensor) => grad((u: Tensor) => u.mul(2))(t))(f32([1, 2])), /^grad: .*\[2\]/, 'non-scalar grad in jit');
  await rejects(jit((t: Tensor) => grad((u: Tensor) => u.sum(), { argnums: 2 })(t))(f32([1, 2])), /^grad: argnums 2/, 'argnums in jit');
  // disposed arguments
  const d = f32([1, 2, 3, 4, 5, 6]);
  d.dispose();
  await rejects(f(d), /^jit: .*dispose/, 'disposed argument');
  assert.is(f.traceCount, 2, 'a disposed argument is rejected before tracing');
  close(await (await f(f32([1, 1, 1, 2, 2, 2]))).data(), [3, 6], 'after the errors');
});

test.run();
