/**
 * Position information for sequence models over [batch, tokens, features]:
 *  - PositionalEmbedding: a learned table [maxLength, features]; adds row t to token t (GPT-2's
 *    learned positions). The slice of the table is a view, so the add fuses into its consumer.
 *  - sinusoidalEncoding(length, dim): the fixed encodings of "Attention Is All You Need",
 *    pe[t, 2i] = sin(t / 10000^(2i/dim)), pe[t, 2i+1] = cos(t / 10000^(2i/dim)), computed on the
 *    device from an iota (no upload); SinusoidalPositionalEncoding adds them as a layer.
 */
import { TesseraError, fmtShape } from '../../ir/error.ts';
import type { Shape } from '../../ir/shape.ts';
import { arange } from '../creation.ts';
import { add, castTo, cos, eq, exp, floor, mod, mul, sin, where } from '../elementwise.ts';
import { reshape, slice } from '../movement.ts';
import type { Tensor } from '../tensor.ts';
import { getInitializer, type InitializerSpec } from './initializers.ts';
import { Layer, registerLayers, type LayerOptions, type Params } from './layers.ts';

/** The sinusoidal position encodings [length, dim] (float32). */
export function sinusoidalEncoding(length: number, dim: number, base = 10000): Tensor {
  if (!Number.isInteger(length) || length < 1 || !Number.isInteger(dim) || dim < 1)
    throw new TesseraError('sinusoidalEncoding', `length ${length} and dim ${dim} must be positive integers`);
  const pos = reshape(arange(0, length, 1, 'float32'), [length, 1]);
  const i = reshape(arange(0, dim, 1, 'float32'), [1, dim]);
  const rate = exp(mul(floor(mul(i, 0.5)), (-2 * Math.log(base)) / dim)); // base^(-2·floor(i/2)/dim)
  const angle = mul(pos, rate);
  return where(eq(mod(i, 2), 0), sin(angle), cos(angle));
}

const checkSeq = (name: string, s: Shape) => {
  if (s.length !== 2) throw new TesseraError(name, `expects inputs of feature shape [tokens, features], got ${fmtShape(s)}`, 'pass [batch, tokens, features] (e.g. the output of an Embedding)');
};

/** Learned position embeddings added to [batch, tokens, features] inputs (tokens ≤ maxLength). */
export class PositionalEmbedding extends Layer {
  private readonly init: InitializerSpec;
  constructor(readonly maxLength: number, opts: LayerOptions & { embeddingsInitializer?: InitializerSpec } = {}) {
    super(opts);
    if (!Number.isInteger(maxLength) || maxLength < 1) throw new TesseraError('PositionalEmbedding', `maxLength must be a positive integer, got ${maxLength}`);
    this.init = opts.embeddingsInitializer ?? 'glorotUniform';
    this.configArgs = [maxLength, opts];
    if (this.inputShape) this.build(this.inputShape);
  }
  protected override createParams(s: Shape): void {
    checkSeq(this.name, s);
    if (s[0]! > this.maxLength) throw new TesseraError(this.name, `inputs have ${s[0]} tokens, more than maxLength ${this.maxLength}`, 'make maxLength at least the sequence length');
    this.params.embeddings = getInitializer(this.init)([this.maxLength, s[1]!]);
  }
  computeOutputShape(s: Shape): Shape { return s; }
  apply(p: Params, x: Tensor): Tensor {
    const Tn = x.shape[1]!, D = x.shape[2]!;
    return add(castTo(x, 'float32'), slice(p.embeddings!, [0, 0], [Tn, D]));
  }
  override cacheKey() { return typeof this.init === 'function' ? null : this.builtinKey(`PositionalEmbedding(${this.maxLength})`); }
}

/** Adds the fixed sinusoidal encodings to [batch, tokens, features] inputs (no parameters). */
export class SinusoidalPositionalEncoding extends Layer {
  constructor(readonly base = 10000, opts: LayerOptions = {}) { super(opts); this.configArgs = [base, opts]; if (this.inputShape) this.build(this.inputShape); }
  protected override createParams(s: Shape): void { checkSeq(this.name, s); }
  computeOutputShape(s: Shape): Shape { return s; }
  apply(_p: Params, x: Tensor): Tensor { return add(castTo(x, 'float32'), sinusoidalEncoding(x.shape[1]!, x.shape[2]!, this.base)); }
  override cacheKey() { return this.builtinKey(`SinusoidalPositionalEncoding(${this.base})`); }
}

registerLayers([PositionalEmbedding, SinusoidalPositionalEncoding], true);
