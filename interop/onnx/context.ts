/**
 * What an ONNX op implementation sees: its node's inputs (device tensors or host tensors), its
 * attributes with their defaults, the model's opset, and a way to fail with a TesseraError that
 * names the node.
 */
import { TesseraError, fmtShape } from '../../ir/error.ts';
import { Tensor } from '../../ops/tensor.ts';
import { HostTensor, toDevice } from './host.ts';
import { AttrType, type Attribute, type NodeProto } from './schema.ts';
import { hostTensorOf } from './host.ts';

export type Value = Tensor | HostTensor;

export const shapeOf = (v: Value): readonly number[] => (v instanceof Tensor ? v.shape : v.dims);

export class OpContext {
  constructor(readonly node: NodeProto, readonly opset: number, private readonly vals: readonly (Value | undefined)[],
    /** The trainable tensor standing for a host parameter, if the caller passed one. */
    private readonly param: (h: HostTensor) => Tensor | undefined) {}

  /** The label errors use: `Conv 'conv1'`. */
  get label(): string { return `${this.node.opType}${this.node.name ? ` '${this.node.name}'` : ''}`; }

  error(message: string, fix?: string): TesseraError { return new TesseraError(`onnx ${this.label}`, message, fix); }

  /** Whether optional input i is given. */
  has(i: number): boolean { return this.vals[i] !== undefined; }
  get count(): number { return this.vals.length; }
  value(i: number): Value {
    const v = this.vals[i];
    if (v === undefined) throw this.error(`input ${i} is missing`, 'the model is invalid: give the required input');
    return v;
  }
  isHost(i: number): boolean { return this.vals[i] instanceof HostTensor; }
  /** Whether every given input is a host tensor, none of them trainable (then the op may run on the host). */
  get allHost(): boolean { return this.vals.every((v) => v === undefined || (v instanceof HostTensor && !v.param)); }

  /** Input i as a Tessera tensor (host tensors are uploaded once; trainable ones resolve to their parameter). */
  tensor(i: number): Tensor {
    const v = this.value(i);
    if (v instanceof Tensor) return v;
    return this.param(v) ?? toDevice(v, `${this.label} input '${this.node.inputs[i]}'`);
  }

  /** Input i as a host tensor: inputs that decide shapes (Reshape's shape, Slice's starts) must be known before the device runs. */
  host(i: number): HostTensor {
    const v = this.value(i);
    if (v instanceof HostTensor) return v;
    throw this.error(`input '${this.node.inputs[i]}' (${fmtShape(v.shape)}) decides an output shape but depends on values computed on the device`,
      'Tessera compiles static shapes: make this input a constant or a function of input shapes only (e.g. export with fixed sizes)');
  }
  ints(i: number): number[] { return this.host(i).numbers(); }

  private attr(name: string, type: number): Attribute | undefined {
    const a = this.node.attrs.get(name);
    if (a && a.type && a.type !== type) throw this.error(`attribute '${name}' has type ${a.type}, expected ${type}`, 'the model is invalid');
    return a;
  }
  int(name: string, def: number): number { return this.attr(name, AttrType.INT)?.i ?? def; }
  float(name: string, def: number): number { return this.attr(name, AttrType.FLOAT)?.f ?? def; }
  intList(name: string): number[] | undefined { const a = this.attr(name, AttrType.INTS); return a ? a.ints : undefined; }
  floatList(name: string): number[] | undefined { const a = this.attr(name, AttrType.FLOATS); return a ? a.floats : undefined; }
  string(name: string, def: string): string { const a = this.attr(name, AttrType.STRING); return a?.s ? new TextDecoder().decode(a.s) : def; }
  tensorAttr(name: string): HostTensor | undefined { const a = this.attr(name, AttrType.TENSOR); return a?.t ? hostTensorOf(a.t) : undefined; }
  hasAttr(name: string): boolean { return this.node.attrs.has(name); }
}

/** One ONNX op: `device` builds Tessera ops (any input may be a host tensor); `host`, if given, is used when every input is a host tensor. */
export interface OnnxOp {
  device: (ctx: OpContext) => Value | Value[];
  host?: (ctx: OpContext) => HostTensor | HostTensor[];
}
