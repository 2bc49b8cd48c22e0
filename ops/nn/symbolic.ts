/**
 * Symbolic tensors of the functional API: what `nn.input({shape})` and a layer called on
 * symbolic tensors return. They hold no data: a feature shape (the batch axis is implicit, shown
 * as None) and the layer call that produced them, so a FunctionalModel can walk the graph from
 * its outputs back to its inputs. Calling a layer on one builds the layer (its parameters exist
 * from then on) and checks the shapes, as in Keras.
 */
import type { Shape } from '../../ir/shape.ts';
import type { Layer } from './layers.ts';

/** One application of a layer to symbolic inputs (a layer called twice, a shared layer, makes two). */
export interface LayerCall { readonly layer: Layer; readonly inputs: readonly SymbolicTensor[]; readonly id: number }

let nextCall = 0;
export class SymbolicTensor {
  readonly source: LayerCall;
  /** @param shape the feature shape (without the batch axis) */
  constructor(readonly shape: Shape, layer: Layer, inputs: readonly SymbolicTensor[]) {
    this.source = { layer, inputs, id: nextCall++ };
  }
  get rank(): number { return this.shape.length + 1; }
  toString(): string { return `SymbolicTensor(shape=(None${this.shape.map((d) => `, ${d}`).join('')}), from ${this.source.layer.name})`; }
}

export const isSymbolic = (x: unknown): x is SymbolicTensor => x instanceof SymbolicTensor;
