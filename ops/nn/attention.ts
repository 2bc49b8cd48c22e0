/**
 * Attention, composed from matmul, softmax and views (so it fuses and differentiates like the
 * rest): scores = q·kᵀ·scale (+ mask), weights = softmax(scores), out = weights·v. Heads are a
 * reshape and a permute of the projections — views, no copies. With the scheduler's rules this is
 * three kernels forward: the scores matmul, one row kernel (scale, mask, softmax), and the
 * weighted-sum matmul.
 */
import { TesseraError, fmtShape } from '../../ir/error.ts';
import { Node } from '../../ir/node.ts';
import { add, mul, where } from '../elementwise.ts';
import { T } from '../graph.ts';
import { matmul } from '../linalg.ts';
import { permute, reshape, transpose } from '../movement.ts';
import { Tensor } from '../tensor.ts';
import { softmax } from './functional.ts';
import { getInitializer, type InitializerSpec } from './initializers.ts';
import { Layer, registerLayers, type LayerOptions, type Params } from './layers.ts';
import type { Shape } from '../../ir/shape.ts';

export interface AttentionOptions {
  /** Added to the scores before the softmax (broadcast to [..., Tq, Tk]); use -Infinity to hide. */
  mask?: Tensor;
  /** Hide keys after each query's position (decoder self-attention). */
  causal?: boolean;
  /** Score scale (default 1/sqrt(head dim)). */
  scale?: number;
}

/** softmax(q·kᵀ·scale + mask)·v over the last two axes; leading axes (batch, heads) broadcast. */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const d = q.shape[q.rank - 1]!;
  if (q.rank < 2 || k.rank < 2 || v.rank < 2 || k.shape[k.rank - 1] !== d || k.shape[k.rank - 2] !== v.shape[v.rank - 2])
    throw new TesseraError('attention', `q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)} do not fit: q and k need the same last axis, k and v the same number of keys`, 'pass [..., T, D] tensors');
  let scores = mul(matmul(q, transpose(k, -2, -1)), opts.scale ?? 1 / Math.sqrt(d));
  const Tq = scores.shape[scores.rank - 2]!, Tk = scores.shape[scores.rank - 1]!;
  if (opts.causal) {
    // key index > query index (offset so the last query sees every key) -> -inf.
    const qi = Node.make('expand', 'int32', [Tq, Tk], [Node.make('reshape', 'int32', [Tq, 1], [Node.make('iota', 'int32', [Tq], [], 0)])]);
    const ki = Node.make('expand', 'int32', [Tq, Tk], [Node.make('reshape', 'int32', [1, Tk], [Node.make('iota', 'int32', [Tk], [], 0)])]);
    const hidden = T(Node.make('lt', 'bool', [Tq, Tk], [Node.make('add', 'int32', [Tq, Tk], [qi, Node.make('const', 'int32', [Tq, Tk], [], Tk - Tq)]), ki]));
    scores = where(hidden, -Infinity, scores);
  }
  if (opts.mask) scores = add(scores, opts.mask);
  return matmul(softmax(scores, -1), v);
}

export interface MultiHeadAttentionOptions extends LayerOptions {
  causal?: boolean;
  useBias?: boolean;
  kernelInitializer?: InitializerSpec;
}

/**
 * Multi-head self-attention over [batch, tokens, features]: projections q, k, v (features ->
 * heads*keyDim), attention per head, output projection back to features.
 */
export class MultiHeadAttention extends Layer {
  private readonly opts: MultiHeadAttentionOptions;
  constructor(readonly numHeads: number, readonly keyDim: number, opts: MultiHeadAttentionOptions = {}) {
    super(opts);
    if (!Number.isInteger(numHeads) || numHeads < 1 || !Number.isInteger(keyDim) || keyDim < 1)
      throw new TesseraError('MultiHeadAttention', `numHeads ${numHeads} and keyDim ${keyDim} must be positive integers`);
    this.opts = opts;
    this.configArgs = [numHeads, keyDim, opts];
    if (this.inputShape) this.build(this.inputShape);
  }
  protected override createParams(s: Shape): void {
    if (s.length !== 2) throw new TesseraError(this.name, `expects inputs of feature shape [tokens, features], got ${fmtShape(s)}`);
    const f = s[1]!, hd = this.numHeads * this.keyDim, init = getInitializer(this.opts.kernelInitializer ?? 'glorotUniform');
    for (const n of ['query', 'key', 'value']) this.params[n] = init([f, hd]);
    this.params.output = init([hd, f]);
    if (this.opts.useBias ?? true) for (const n of ['queryBias', 'keyBias', 'valueBias']) this.params[n] = getInitializer('zeros')([hd]);
    if (this.opts.useBias ?? true) this.params.outputBias = getInitializer('zeros')([f]);
  }
  computeOutputShape(s: Shape): Shape { return s; }
  apply(p: Params, x: Tensor): Tensor {
    const [B, Tn] = [x.shape[0]!, x.shape[1]!], H = this.numHeads, D = this.keyDim;
    const proj = (w: string, b: string) => {
      const y = p[b] ? add(matmul(x, p[w]!), p[b]!) : matmul(x, p[w]!);
      return permute(reshape(y, [B, Tn, H, D]), [0, 2, 1, 3]); // [B, H, T, D]
    };
    const o = scaledDotProductAttention(proj('query', 'queryBias'), proj('key', 'keyBias'), proj('value', 'valueBias'), { causal: this.opts.causal });
    const merged = reshape(permute(o, [0, 2, 1, 3]), [B, Tn, H * D]);
    const y = matmul(merged, p.output!);
    return p.outputBias ? add(y, p.outputBias) : y;
  }
  override cacheKey(): string | null {
    const o = this.opts;
    return typeof o.kernelInitializer === 'function' ? null : this.builtinKey(`MultiHeadAttention(${this.numHeads},${this.keyDim},${!!o.causal},${o.useBias ?? true})`);
  }
}

/**
 * Embedding lookup as a one-hot matmul: onehot(ids) · table. The one-hot is computed inside the
 * matmul kernel (a fused prologue, no [tokens, vocab] buffer), and its gradient, onehotᵀ · g,
 * is the scatter-add of rows that an embedding's backward pass needs.
 */
export function embedding(ids: Tensor, table: Tensor): Tensor {
  if (ids.dtype !== 'int32' && ids.dtype !== 'uint32') throw new TesseraError('embedding', `ids must be int32 or uint32, got ${ids.dtype}`, 'cast the ids with .cast("int32")');
  if (table.rank !== 2) throw new TesseraError('embedding', `table must be [vocab, dim], got ${fmtShape(table.shape)}`);
  const V = table.shape[0]!, shape = [...ids.shape, V];
  const id = Node.make('expand', ids.dtype, shape, [Node.make('reshape', ids.dtype, [...ids.shape, 1], [ids.use('embedding')])]);
  const vocab = Node.make('expand', ids.dtype, shape, [Node.make('reshape', ids.dtype, [...ids.shape.map(() => 1), V], [Node.make('iota', ids.dtype, [V], [], 0)])]);
  const onehot = T(Node.make('cast', table.dtype, shape, [Node.make('eq', 'bool', shape, [id, vocab])]));
  return matmul(onehot, table);
}

/** Token embeddings: integer ids [batch, tokens] -> [batch, tokens, dim]. */
export class Embedding extends Layer {
  private readonly init: InitializerSpec;
  constructor(readonly vocabSize: number, readonly dim: number, opts: LayerOptions & { embeddingsInitializer?: InitializerSpec } = {}) {
    super(opts);
    if (!Number.isInteger(vocabSize) || vocabSize < 1 || !Number.isInteger(dim) || dim < 1)
      throw new TesseraError('Embedding', `vocabSize ${vocabSize} and dim ${dim} must be positive integers`);
    this.init = opts.embeddingsInitializer ?? 'glorotUniform';
    this.configArgs = [vocabSize, dim, opts];
    if (this.inputShape) this.build(this.inputShape);
  }
  protected override createParams(): void { this.params.embeddings = getInitializer(this.init)([this.vocabSize, this.dim]); }
  computeOutputShape(s: Shape): Shape { return [...s, this.dim]; }
  apply(p: Params, x: Tensor): Tensor { return embedding(x.dtype === 'int32' || x.dtype === 'uint32' ? x : x.cast('int32'), p.embeddings!); }
  override cacheKey() { return this.builtinKey(`Embedding(${this.vocabSize},${this.dim})`); }
}

registerLayers([MultiHeadAttention, Embedding], true);
