/**
 * jax-js (@jax-js/jax) next to Tessera, on the same adapter in one process: the peer the issues
 * measure Tessera against ("≤ 0.5× jax-js's time on the W5 block").
 *
 * jax-js targets browsers; in Node it needs `navigator.gpu` (and reads `navigator.userAgent`), so
 * this module installs the `webgpu` package's GPU as `globalThis.navigator` (as bench/ort.ts does;
 * whichever comes first wins) before either library opens a device. Each library then has its own
 * GPUDevice on one adapter. Import this module before anything that opens a device.
 *
 * jax-js's memory model is reference counting: a function consumes its array arguments, so
 * callers pass `.ref` for arrays they use again (see its README).
 */
type Wg = { create: (o: string[]) => GPU; globals: Record<string, unknown> };
const wg = (await import('webgpu')) as unknown as Wg;
Object.assign(globalThis, wg.globals);
const nav = (globalThis as { navigator?: { gpu?: GPU; userAgent?: string } }).navigator;
if (!nav?.gpu) Object.defineProperty(globalThis, 'navigator', { value: { gpu: wg.create([]), userAgent: 'Node.js' }, configurable: true, writable: true });
else if (nav.userAgent === undefined) Object.defineProperty(nav, 'userAgent', { value: 'Node.js', configurable: true });

// jax-js uses ES2025 iterator helpers (`str.matchAll(re).map(...)`), which Node 20 lacks: add the
// few it calls to %IteratorPrototype% when missing (generators inherit from it, so they chain).
const iterProto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as Record<string, unknown>;
const helpers: Record<string, (this: Iterable<unknown>, ...a: any[]) => unknown> = {
  *map(f: (v: unknown, i: number) => unknown) { let i = 0; for (const v of this) yield f(v, i++); },
  *filter(f: (v: unknown, i: number) => boolean) { let i = 0; for (const v of this) if (f(v, i++)) yield v; },
  *flatMap(f: (v: unknown, i: number) => Iterable<unknown>) { let i = 0; for (const v of this) yield* f(v, i++); },
  *take(n: number) { if (n <= 0) return; let i = 0; for (const v of this) { yield v; if (++i >= n) return; } },
  *drop(n: number) { let i = 0; for (const v of this) if (i++ >= n) yield v; },
  toArray() { return [...this]; },
  forEach(f: (v: unknown, i: number) => void) { let i = 0; for (const v of this) f(v, i++); },
  some(f: (v: unknown, i: number) => boolean) { let i = 0; for (const v of this) if (f(v, i++)) return true; return false; },
  every(f: (v: unknown, i: number) => boolean) { let i = 0; for (const v of this) if (!f(v, i++)) return false; return true; },
  find(f: (v: unknown, i: number) => boolean) { let i = 0; for (const v of this) if (f(v, i++)) return v; return undefined; },
  reduce(f: (a: unknown, v: unknown, i: number) => unknown, ...init: unknown[]) {
    let i = 0, acc = init[0], first = init.length === 0;
    for (const v of this) { if (first) { acc = v; first = false; } else acc = f(acc, v, i); i++; }
    return acc;
  },
};
for (const [k, f] of Object.entries(helpers)) if (!(k in iterProto)) Object.defineProperty(iterProto, k, { value: f, configurable: true, writable: true });

export const jax = await import('@jax-js/jax');
const devices = await jax.init();
if (!devices.includes('webgpu')) throw new Error(`jax-js found no WebGPU device (devices: ${devices.join(', ')})`);
jax.defaultDevice('webgpu');

const { numpy: np, nn } = jax;
type JArray = InstanceType<typeof jax.Array>;

/** Weights of one pre-norm transformer block (examples/transformer.ts), as Float32Arrays. */
export interface BlockWeights {
  ln1g: Float32Array; ln1b: Float32Array; ln2g: Float32Array; ln2b: Float32Array;
  wq: Float32Array; bq: Float32Array; wk: Float32Array; bk: Float32Array; wv: Float32Array; bv: Float32Array;
  wo: Float32Array; bo: Float32Array; w1: Float32Array; b1: Float32Array; w2: Float32Array; b2: Float32Array;
}

/**
 * The W5 block forward written as a jax-js user would: pre-norm attention (nn.dotProductAttention,
 * no mask) and a GELU FFN, each with a residual, under `jax.jit`. Returns a runner that takes
 * [B, S, D] input data and resolves when the output is computed on the GPU.
 */
export function jaxBlock(w: BlockWeights, shape: { B: number; S: number; D: number; heads: number; ffn: number }) {
  const { B, S, D, heads, ffn } = shape, dh = D / heads;
  const arr = (data: Float32Array, s: number[]) => np.array(data).reshape(s);
  const p = {
    ln1g: arr(w.ln1g, [D]), ln1b: arr(w.ln1b, [D]), ln2g: arr(w.ln2g, [D]), ln2b: arr(w.ln2b, [D]),
    wq: arr(w.wq, [D, D]), bq: arr(w.bq, [D]), wk: arr(w.wk, [D, D]), bk: arr(w.bk, [D]), wv: arr(w.wv, [D, D]), bv: arr(w.bv, [D]),
    wo: arr(w.wo, [D, D]), bo: arr(w.bo, [D]), w1: arr(w.w1, [D, ffn]), b1: arr(w.b1, [ffn]), w2: arr(w.w2, [ffn, D]), b2: arr(w.b2, [D]),
  };
  const layerNorm = (t: JArray, g: JArray, b: JArray) => nn.standardize(t, -1, { epsilon: 1e-5 }).mul(g).add(b);
  const block = jax.jit((q: typeof p, x: JArray) => {
    const h1 = layerNorm(x.ref, q.ln1g, q.ln1b);
    const proj = (t: JArray, wt: JArray, bt: JArray) => np.matmul(t, wt).add(bt).reshape([B, S, heads, dh]);
    const a = nn.dotProductAttention(proj(h1.ref, q.wq, q.bq), proj(h1.ref, q.wk, q.bk), proj(h1, q.wv, q.bv)).reshape([B, S, D]);
    const h = x.add(np.matmul(a, q.wo).add(q.bo));
    const f = nn.gelu(np.matmul(layerNorm(h.ref, q.ln2g, q.ln2b), q.w1).add(q.b1), { approximate: false });
    return h.add(np.matmul(f, q.w2).add(q.b2));
  });
  const refs = () => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.ref])) as typeof p;
  const device = jax.getWebGPUDevice?.() as GPUDevice | undefined;
  return {
    /** Runs the block; resolves with the output array (the caller disposes it). */
    async run(x: JArray): Promise<JArray> {
      const out = block(refs(), x.ref);
      await out.blockUntilReady();
      if (device) await device.queue.onSubmittedWorkDone();
      return out;
    },
    input: (data: Float32Array) => arr(data, [B, S, D]),
  };
}
