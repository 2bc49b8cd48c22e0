/**
 * Merge layers of the functional API: Add (residual connections), Subtract, Multiply, Average,
 * Maximum, Minimum (elementwise over inputs of one shape, broadcasting as numpy) and Concatenate
 * (along a feature axis). Called with a list: `new nn.Add().call([x, h])`.
 */
import { TesseraError, fmtShape } from '../../ir/error.ts';
import { broadcastShapes, normAxis, type Shape } from '../../ir/shape.ts';
import { add, maximum, minimum, mul, sub } from '../elementwise.ts';
import { concat } from '../movement.ts';
import type { Tensor } from '../tensor.ts';
import { Layer, registerLayers, type LayerOptions, type Params } from './layers.ts';

/** A layer over a list of at least two inputs. */
export abstract class MergeLayer extends Layer {
  constructor(opts: LayerOptions = {}) { super(opts); this.configArgs = [opts]; }
  override get arity(): 'many' { return 'many'; }
  override buildFor(shapes: readonly Shape[]): void { this.outputShapeFor(shapes); this.build(shapes[0]!); }
  override build(inputShape: Shape): void { if (!this.built) super.build(inputShape); }
  computeOutputShape(s: Shape): Shape { return s; }
  override outputShapeFor(shapes: readonly Shape[]): Shape {
    if (shapes.length < 2) throw new TesseraError(this.name, `needs at least two inputs, got ${shapes.length}`);
    return shapes.slice(1).reduce((a, b) => broadcastShapes(this.name, a, b), shapes[0]!);
  }
  apply(_p: Params, _x: Tensor): Tensor { throw new TesseraError(this.name, 'takes a list of inputs', 'call it as layer.call([a, b])'); }
  override applyInputs(_p: Params, xs: readonly Tensor[]): Tensor {
    this.outputShapeFor(xs.map((t) => t.shape.slice(1)));
    return this.merge(xs);
  }
  protected abstract merge(xs: readonly Tensor[]): Tensor;
  override cacheKey() { return this.builtinKey(this.className); }
}

const fold = (xs: readonly Tensor[], f: (a: Tensor, b: Tensor) => Tensor) => xs.slice(1).reduce(f, xs[0]!);
export class Add extends MergeLayer { protected merge(xs: readonly Tensor[]) { return fold(xs, add); } }
export class Multiply extends MergeLayer { protected merge(xs: readonly Tensor[]) { return fold(xs, mul); } }
export class Average extends MergeLayer { protected merge(xs: readonly Tensor[]) { return mul(fold(xs, add), 1 / xs.length); } }
export class Maximum extends MergeLayer { protected merge(xs: readonly Tensor[]) { return fold(xs, maximum); } }
export class Minimum extends MergeLayer { protected merge(xs: readonly Tensor[]) { return fold(xs, minimum); } }
/** a - b (exactly two inputs). */
export class Subtract extends MergeLayer {
  override outputShapeFor(shapes: readonly Shape[]): Shape {
    if (shapes.length !== 2) throw new TesseraError(this.name, `takes exactly two inputs, got ${shapes.length}`);
    return super.outputShapeFor(shapes);
  }
  protected merge(xs: readonly Tensor[]) { return sub(xs[0]!, xs[1]!); }
}

/** Concatenates along a feature axis (default the last; axis counts the batch axis, as in Keras). */
export class Concatenate extends MergeLayer {
  constructor(readonly axis = -1, opts: LayerOptions = {}) { super(opts); this.configArgs = [axis, opts]; }
  private featureAxis(rank: number): number {
    const a = normAxis(this.name, this.axis, rank + 1);
    if (a === 0) throw new TesseraError(this.name, 'cannot concatenate along the batch axis (0)', 'use a feature axis, e.g. -1');
    return a - 1;
  }
  override outputShapeFor(shapes: readonly Shape[]): Shape {
    if (shapes.length < 2) throw new TesseraError(this.name, `needs at least two inputs, got ${shapes.length}`);
    const a = this.featureAxis(shapes[0]!.length);
    for (const s of shapes)
      if (s.length !== shapes[0]!.length || s.some((d, i) => i !== a && d !== shapes[0]![i]))
        throw new TesseraError(this.name, `feature shapes ${shapes.map((x) => fmtShape(x)).join(', ')} differ outside axis ${this.axis}`, 'make all sizes equal except along the concat axis');
    return shapes[0]!.map((d, i) => (i === a ? shapes.reduce((t, s) => t + s[i]!, 0) : d));
  }
  protected merge(xs: readonly Tensor[]) { return concat(xs, this.featureAxis(xs[0]!.rank - 1) + 1); }
  override cacheKey() { return this.builtinKey(`Concatenate(${this.axis})`); }
}

registerLayers([Add, Multiply, Average, Maximum, Minimum, Subtract, Concatenate], true);
