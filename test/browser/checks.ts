// Browser-side checks run by scripts/browser-test.mjs (bundled by esbuild, loaded by headless Chromium).
// They import the library and run a representative set of ops on the browser's WebGPU adapter
// (SwiftShader in CI: 10 storage buffers per stage, no shader-f16, 256 invocations per workgroup),
// comparing with hand-computed values. Each check pushes exactly one result and never throws.
import * as ts from '../../index.ts';
import { uniformAt } from '../../ir/random.ts';
import { gpuBufferRoundTrip, initWithPageDevice } from './device-sharing.ts';

export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

function errMsg(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Runs `fn` as one named check; a thrown error or a returned string (failure detail) fails it. */
async function check(out: Check[], name: string, fn: () => Promise<string | void> | string | void): Promise<boolean> {
  try {
    const failure = await fn();
    out.push(failure ? { name, ok: false, detail: failure } : { name, ok: true });
  } catch (e) {
    out.push({ name, ok: false, detail: errMsg(e) });
  }
  return out[out.length - 1]!.ok;
}

/** Compares values elementwise; returns a description of the worst mismatch, or nothing. */
function close(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): string | void {
  if (actual.length !== expected.length) return `length ${actual.length}, expected ${expected.length}`;
  let worst = -1, worstErr = 1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    const err = Number.isNaN(e) ? (Number.isNaN(a) ? 0 : Infinity) : a === e ? 0 : Math.abs(a - e) / (atol + rtol * Math.abs(e));
    if (err > worstErr) { worstErr = err; worst = i; }
  }
  if (worst >= 0) return `at [${worst}]: got ${actual[worst]}, expected ${expected[worst]}`;
}

const f32 = (data: number[], shape?: number[]) => ts.tensor(data, { dtype: 'float32', shape });

export async function runChecks(): Promise<Check[]> {
  const checks: Check[] = [];
  await check(checks, 'navigator.gpu exists', () => ('gpu' in navigator ? undefined : 'navigator.gpu is missing (not a secure context?)'));
  await initWithPageDevice((name, fn) => check(checks, name, fn));
  const haveDevice = await check(checks, 'tessera device', async () => {
    const dev = await ts.getDevice();
    if (!dev.caps.maxBuffers) return 'no storage buffers reported';
  });
  if (!haveDevice) return checks;
  await gpuBufferRoundTrip((name, fn) => check(checks, name, fn));

  await check(checks, 'elementwise chain (one dispatch)', async () => {
    const x = f32([-2, -0.5, 0, 1, 3]);
    const before = ts.stats().dispatches;
    const y = x.mul(2).add(1).relu().sqrt().exp().neg().abs().sub(1).mul(0.5).square();
    const got = await y.data();
    const want = [-2, -0.5, 0, 1, 3].map((v) => { const r = Math.exp(Math.sqrt(Math.max(2 * v + 1, 0))); return ((r - 1) * 0.5) ** 2; });
    if (ts.stats().dispatches - before !== 1) return `${ts.stats().dispatches - before} dispatches`;
    return close(got, want, 1e-5);
  });

  await check(checks, 'broadcasting [2,3] + [3] and [2,1] * scalar', async () => {
    const a = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    const r1 = close(await a.add(f32([10, 20, 30])).data(), [11, 22, 33, 14, 25, 36]);
    if (r1) return r1;
    return close(await f32([1, 2], [2, 1]).mul(3).add(f32([0, 1, 2])).data(), [3, 4, 5, 6, 7, 8]);
  });

  await check(checks, 'softmax over the last axis', async () => {
    const got = await ts.softmax(f32([1, 2, 3, 0, 0, 0], [2, 3])).data();
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)], s = e[0]! + e[1]! + e[2]!;
    return close(got, [e[0]! / s, e[1]! / s, e[2]! / s, 1 / 3, 1 / 3, 1 / 3], 1e-5);
  });

  await check(checks, 'sum / mean / max over axes', async () => {
    const x = () => f32([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]);
    return close(await x().sum(0).data(), [8, 10, 12, 14, 16, 18])
      ?? close(await x().sum([0, 2]).data(), [18, 26, 34])
      ?? close(await x().mean(-1).data(), [1.5, 3.5, 5.5, 7.5, 9.5, 11.5])
      ?? close(await x().max(1, true).data(), [5, 6, 11, 12])
      ?? close(await x().sum().data(), [78])
      ?? close(await ts.arange(10000).sum().data(), [49995000], 0, 0);
  });

  await check(checks, 'matmul 2x3 @ 3x2, and 33x17 @ 17x9 with bias + relu', async () => {
    const a = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    const r = close(await a.matmul(a.T).data(), [14, 32, 32, 77]);
    if (r) return r;
    const M = 33, K = 17, N = 9;
    const av = Array.from({ length: M * K }, (_, i) => ((i * 7) % 11) / 11 - 0.5);
    const bv = Array.from({ length: K * N }, (_, i) => ((i * 5) % 13) / 13 - 0.5);
    const bias = Array.from({ length: N }, (_, j) => j / 10 - 0.4);
    const want: number[] = [];
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += av[m * K + k]! * bv[k * N + n]!;
        want.push(Math.max(acc + bias[n]!, 0));
      }
    return close(await ts.relu(ts.matmul(f32(av, [M, K]), f32(bv, [K, N])).add(f32(bias))).data(), want, 1e-5, 1e-5);
  });

  await check(checks, 'argmax / argmin', async () => {
    const x = () => f32([3, 9, 9, 7, 1, 7], [2, 3]);
    return close(await x().argmax(1).data(), [1, 0], 0, 0) ?? close(await x().argmin(0).data(), [0, 1, 1], 0, 0) ?? close(await x().argmax().data(), [1], 0, 0);
  });

  await check(checks, 'transposed, sliced and padded views', async () => {
    const x = ts.arange(6).reshape([2, 3]);
    return close(await x.T.data(), [0, 3, 1, 4, 2, 5], 0, 0)
      ?? close(await ts.arange(6).reshape([2, 3]).T.reshape([2, 3]).add(10).data(), [10, 13, 11, 14, 12, 15], 0, 0)
      ?? close(await ts.arange(20).reshape([4, 5]).slice([1, 0], [4, 5], [2, 2]).data(), [5, 7, 9, 15, 17, 19], 0, 0)
      ?? close(await ts.tensor([1, 2]).pad([[1, 2]], 9).data(), [9, 1, 2, 9, 9], 0, 0);
  });

  await check(checks, 'int32 wrapping and division, uint32', async () => {
    const i = (d: number[]) => ts.tensor(d, { dtype: 'int32' });
    return close(await i([2147483647, -7, 7]).add(i([1, 0, 0])).data(), [-2147483648, -7, 7], 0, 0)
      ?? close(await ts.floorDiv(i([7, -7, 5]), i([2, 2, 0])).data(), [3, -4, 5], 0, 0)
      ?? close(await ts.mod(i([7, -7]), i([3, 3])).data(), [1, 2], 0, 0)
      ?? close(await ts.tensor([0, 5], { dtype: 'uint32' }).sub(1).data(), [4294967295, 4], 0, 0);
  });

  await check(checks, 'bool ops: compare, logic, where, sum', async () => {
    const x = f32([-1, 0, 2, 3]);
    const m = x.gt(0);
    if (m.dtype !== 'bool') return `gt gave ${m.dtype}`;
    return close(await m.data(), [0, 0, 1, 1], 0, 0)
      ?? close(await ts.logicalAnd(f32([-1, 0, 2, 3]).gt(0), f32([-1, 0, 2, 3]).lt(3)).data(), [0, 0, 1, 0], 0, 0)
      ?? close(await ts.logicalNot(ts.tensor([true, false])).data(), [0, 1], 0, 0)
      ?? close(await ts.where(f32([-1, 0, 2, 3]).gt(0), f32([-1, 0, 2, 3]), -5).data(), [-5, -5, 2, 3], 0, 0)
      ?? close(await f32([-1, 0, 2, 3]).ge(0).sum().data(), [3], 0, 0)
      ?? close(await ts.tensor([[true, false], [true, true]]).max(1).data(), [1, 1], 0, 0);
  });

  await check(checks, 'more inputs than the adapter has storage buffers per stage', async () => {
    const dev = await ts.getDevice();
    const n = dev.caps.maxBuffers + 4;
    let acc = f32([0, 1]);
    for (let i = 1; i < n; i++) acc = acc.add(f32([i, i + 1]));
    return close(await acc.data(), [(n * (n - 1)) / 2, (n * (n - 1)) / 2 + n]);
  });

  // Not exp/log: SwiftShader computes exp(NaN) = Infinity and log(NaN) as a finite number (WGSL lets
  // drivers assume no NaNs); the ops below are NaN-safe by construction.
  await check(checks, 'NaN and Infinity propagate', async () => {
    const x = () => f32([NaN, 1, Infinity, -Infinity]);
    return close(await x().add(1).data(), [NaN, 2, Infinity, -Infinity])
      ?? close(await ts.maximum(x(), 0).data(), [NaN, 1, Infinity, 0])
      ?? close(await ts.minimum(0, x()).data(), [NaN, 0, 0, -Infinity])
      ?? close(await f32([1, Infinity]).exp().data(), [Math.E, Infinity], 1e-6)
      ?? close(await x().max().data(), [NaN])
      ?? close(await x().sum().data(), [NaN])
      ?? close(await x().ne(x()).data(), [1, 0, 0, 0], 0, 0)
      ?? close(await x().argmax().data(), [0], 0, 0);
  });

  await check(checks, 'random numbers equal the reference bit for bit (plain, transposed); dropout', async () => {
    const seed = ts.tensor(123456789, { dtype: 'uint32' });
    const want = Array.from({ length: 35 }, (_, i) => uniformAt(123456789, 0, i));
    const wantT = Array.from({ length: 35 }, (_, i) => want[(i % 5) * 7 + Math.floor(i / 5)]!);
    const kept = (await ts.dropout(ts.ones([64, 64]), 0.25, 9).data()).filter((v) => v !== 0);
    if (!kept.every((v) => v === Math.fround(1 / 0.75)) || Math.abs(kept.length / 4096 - 0.75) > 0.04) return `dropout kept ${kept.length} of 4096`;
    return close(await ts.randomUniform([5, 7], seed).data(), want, 0, 0) ?? close(await ts.randomUniform([5, 7], seed).T.data(), wantT, 0, 0);
  });

  await check(checks, 'errors: TesseraError before GPU work, device still usable', async () => {
    let err: unknown;
    try { ts.add(ts.zeros([2, 3]), ts.zeros([4])); } catch (e) { err = e; }
    if (!(err instanceof ts.TesseraError) || !/\[2, 3\]/.test(err.message)) return `expected a TesseraError naming the shapes, got ${errMsg(err)}`;
    return close(await f32([1, 2]).mul(2).data(), [2, 4]);
  });

  await check(checks, 'nn: the seed program trains (loss falls); weights round-trip as safetensors bytes', async () => {
    const make = () => new ts.Sequential([new ts.Dense(10, { activation: 'relu', inputShape: [3] }), new ts.Dense(1, { activation: 'sigmoid' })]);
    const model = make();
    model.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const h = await model.fit([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[0], [1], [0]], { epochs: 10, verbose: 0 });
    const loss = h.history.loss!;
    if (!(loss.length === 10 && loss[9]! < loss[0]!)) return `loss did not fall: ${loss.join(', ')}`;
    const p = await (await model.predict([[1, 2, 3]])).data();
    const copy = make();
    await copy.loadWeights(await model.saveWeights());
    return close(await (await copy.predict([[1, 2, 3]])).data(), p);
  });

  return checks;
}
