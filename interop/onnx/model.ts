/**
 * OnnxModel: a decoded ONNX graph that `run` turns into lazy Tessera tensors, node by node.
 *
 * At load: the graph is decoded, every op type is checked (one error lists all unsupported ones),
 * and whatever depends only on constants (initializers, Constant nodes, shape arithmetic on them)
 * is evaluated on the host once. At run: feeds are checked against the declared inputs (names,
 * dtypes, ranks, fixed and symbolic dims), Shape of a tensor is its static shape, so the shape
 * subgraphs fold on the host again and every device op gets static shapes. The result is one lazy
 * graph: it fuses with the caller's own ops, runs under `jit`, and differentiates under `grad`
 * with respect to `parameters()` (float initializers), passed back in with `run(feeds, {parameters})`.
 */
import type { DType } from '../../ir/dtype.ts';
import { TesseraError, fmtShape } from '../../ir/error.ts';
import { full } from '../../ops/creation.ts';
import { fromHost, Tensor } from '../../ops/tensor.ts';
import { OpContext, type Value } from './context.ts';
import { deviceDtype, HostTensor, hostTensorOf, toDevice } from './host.ts';
import { OPS, unsupportedOps } from './registry.ts';
import { elemTypeName, type Model, type NodeProto, type ValueInfo } from './schema.ts';

export interface OnnxValueInfo {
  readonly name: string;
  /** The Tessera dtype the value has (int64 runs as int32, double as float32). */
  readonly dtype: DType;
  /** The ONNX element type as declared, e.g. 'float', 'int64'. */
  readonly onnxType: string;
  /** Declared dims: a number, a symbolic name ('batch'), or null when unknown. */
  readonly shape: readonly (number | string | null)[] | null;
}

export interface RunOptions {
  /** Tensors standing for initializers by name (e.g. the traced arguments of `grad`); defaults to `parameters()`. */
  parameters?: Record<string, Tensor>;
}

const MIN_OPSET = 7;

export class OnnxModel {
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  /** The default-domain opset the model was exported with. */
  readonly opset: number;
  readonly producer: string;
  private readonly consts = new Map<string, HostTensor>();
  private readonly nodes: NodeProto[];
  private readonly params = new Map<string, Tensor>();

  constructor(model: Model) {
    const g = model.graph;
    this.opset = model.opsets.get('') ?? 0;
    this.producer = model.producer;
    if (this.opset < MIN_OPSET)
      throw new TesseraError('loadOnnx',
        `the model imports opset ${this.opset} of the default domain; Tessera supports opsets ${MIN_OPSET} and later (tested 9-17)`,
        'convert it with onnx.version_converter.convert_version(model, 13)');
    if (g.sparseInitializers) throw new TesseraError('loadOnnx',
      `the graph has ${g.sparseInitializers} sparse initializers, which are not supported`, 'densify them before export');
    const bad = unsupportedOps(g.nodes);
    if (bad.length)
      throw new TesseraError('loadOnnx', `the model uses ${bad.length} unsupported op type${bad.length > 1 ? 's' : ''}: ${bad.join(', ')}`,
        'see the supported ops in README.md (ONNX import), or re-export the model without them');
    for (const t of g.initializers) this.consts.set(t.name, hostTensorOf(t, t.name));
    this.inputs = g.inputs.filter((v) => !this.consts.has(v.name)).map((v) => info(v, 'input'));
    this.outputs = g.outputs.map((v) => info(v, 'output'));
    this.nodes = this.foldConstants(g.nodes);
    // With fully static inputs, trace once now so shape errors surface at load, not at the first run.
    if (this.inputs.every((v) => v.shape?.every((d) => typeof d === 'number')))
      this.run(Object.fromEntries(this.inputs.map((v) => [v.name, full(v.shape as number[], 0, v.dtype)])));
  }

  /** Evaluates, once, every node whose inputs are all constants and that has a host implementation. */
  private foldConstants(nodes: readonly NodeProto[]): NodeProto[] {
    const rest: NodeProto[] = [];
    for (const node of nodes) {
      const impl = OPS[node.opType]!;
      const vals = node.inputs.map((n) => (n ? this.consts.get(n) : undefined));
      const known = node.inputs.every((n, i) => !n || vals[i]);
      const ctx = new OpContext(node, this.opset, vals, () => undefined);
      if (!known || !impl.host || !ctx.allHost) { rest.push(node); continue; }
      const out = this.call(ctx, impl.host);
      node.outputs.forEach((name, i) => { if (name) this.consts.set(name, out[i] as HostTensor); });
    }
    return rest;
  }

  private call(ctx: OpContext, f: (c: OpContext) => Value | Value[]): Value[] {
    let out: Value | Value[];
    try { out = f(ctx); } catch (e) {
      if (e instanceof TesseraError && !e.op.startsWith('onnx ') && e.op !== 'loadOnnx') throw new TesseraError(`onnx ${ctx.label}`, e.message);
      throw e;
    }
    const list = Array.isArray(out) ? out : [out];
    const want = ctx.node.outputs.filter((n) => n).length;
    if (list.length < want) throw ctx.error(`${want} outputs requested, ${list.length} supported`, 'use only the outputs Tessera implements');
    return list;
  }

  /** The float initializers (and float Constant tensors, which some exporters use for weights) as tensors, by name. */
  parameters(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const h of this.allParams()) out[h.param!] = this.paramTensor(h);
    return out;
  }

  /** Replaces parameters by name (e.g. with fine-tuned values); shapes and dtypes must match. */
  setParameters(values: Record<string, Tensor>): void {
    const byName = new Map(this.allParams().map((h) => [h.param!, h]));
    for (const [name, t] of Object.entries(values)) {
      const h = byName.get(name);
      if (!h) throw new TesseraError('OnnxModel.setParameters', `'${name}' is not a parameter of this model`, 'use the names parameters() returns');
      this.checkParam(name, h, t, 'OnnxModel.setParameters');
      this.params.set(name, t);
    }
  }

  private allParams(): HostTensor[] {
    const seen: HostTensor[] = [];
    for (const h of this.consts.values()) if (h.param) seen.push(h);
    return seen;
  }

  private paramTensor(h: HostTensor): Tensor {
    let t = this.params.get(h.param!);
    if (!t || t.isDisposed) { t = h.data instanceof Float32Array ? fromHost(h.data, 'float32', h.dims, h.param) : toDevice(h,
      h.param!); this.params.set(h.param!, t); }
    return t;
  }

  private checkParam(name: string, h: HostTensor, t: unknown, op: string): asserts t is Tensor {
    if (!(t instanceof Tensor)) throw new TesseraError(op, `parameter '${name}' must be a Tensor`,
      'pass the tensors parameters() returned, or ones of the same shape');
    if (t.dtype !== 'float32' || t.shape.length !== h.dims.length || t.shape.some((d, i) => d !== h.dims[i]))
      throw new TesseraError(op, `parameter '${name}' is float32${fmtShape(h.dims)}, got ${t.dtype}${fmtShape(t.shape)}`,
        'keep the shape and dtype of parameters()');
  }

  /** Builds the model's graph on `feeds` (lazy tensors by input name) and returns its outputs by name. */
  run(feeds: Record<string, Tensor>, opts: RunOptions = {}): Record<string, Tensor> {
    const env = new Map<string, Value>(this.consts);
    this.bindFeeds(feeds, env);
    const given = opts.parameters ?? {};
    const names = new Set(this.allParams().map((h) => h.param!));
    for (const k of Object.keys(given))
      if (!names.has(k)) throw new TesseraError('OnnxModel.run', `'${k}' is not a parameter of this model`, 'use the names parameters() returns');
    const param = (h: HostTensor): Tensor | undefined => {
      if (!h.param) return undefined;
      const t = given[h.param];
      if (t === undefined) return this.paramTensor(h);
      this.checkParam(h.param, h, t, 'OnnxModel.run');
      return t;
    };
    for (const node of this.nodes) {
      const vals = node.inputs.map((n) => {
        if (!n) return undefined;
        const v = env.get(n);
        if (v === undefined) throw new TesseraError('onnx', `node ${node.opType} '${node.name}' reads '${n}', which no earlier node produces`,
          'the graph is not topologically sorted or is incomplete');
        return v;
      });
      const ctx = new OpContext(node, this.opset, vals, param);
      const impl = OPS[node.opType]!;
      const out = this.call(ctx, ctx.allHost && impl.host ? impl.host : impl.device);
      node.outputs.forEach((name, i) => { if (name) env.set(name, out[i]!); });
    }
    const result: Record<string, Tensor> = {};
    for (const o of this.outputs) {
      const v = env.get(o.name);
      if (v === undefined) throw new TesseraError('onnx', `graph output '${o.name}' is produced by no node`, 'the model is invalid');
      result[o.name] = v instanceof Tensor ? v : (param(v) ?? toDevice(v, `output '${o.name}'`));
    }
    return result;
  }

  private bindFeeds(feeds: Record<string, Tensor>, env: Map<string, Value>): void {
    const expected = this.inputs.map((v) => v.name);
    if (typeof feeds !== 'object' || feeds === null || feeds instanceof Tensor)
      throw new TesseraError('OnnxModel.run', 'feeds must be an object of tensors by input name',
        `pass { ${expected.map((n) => `'${n}': tensor`).join(', ')} }`);
    for (const k of Object.keys(feeds))
      if (!expected.includes(k)) throw new TesseraError('OnnxModel.run', `unknown input '${k}'`,
        `the model's inputs are ${expected.map((n) => `'${n}'`).join(', ')}`);
    const symbols = new Map<string, [number, string]>();
    for (const v of this.inputs) {
      const t = feeds[v.name];
      if (t === undefined) throw new TesseraError('OnnxModel.run', `input '${v.name}' is missing`,
        `pass all of ${expected.map((n) => `'${n}'`).join(', ')}`);
      if (!(t instanceof Tensor)) throw new TesseraError('OnnxModel.run', `input '${v.name}' must be a Tensor`,
        'wrap the data with tensor(data, { shape })');
      if (t.dtype !== v.dtype) throw new TesseraError('OnnxModel.run', `input '${v.name}' must be ${v.dtype} (ONNX ${v.onnxType}), got ${t.dtype}`,
        `cast it with .cast('${v.dtype}')`);
      const want = v.shape;
      if (want) {
        const desc = `[${want.map((d) => d ?? '?').join(', ')}]`;
        if (want.length !== t.rank) throw new TesseraError('OnnxModel.run', `input '${v.name}' must have shape ${desc}, got ${fmtShape(t.shape)}`,
          `reshape it to rank ${want.length}`);
        want.forEach((d, i) => {
          const got = t.shape[i]!;
          if (typeof d === 'number' && d !== got)
            throw new TesseraError('OnnxModel.run',
              `input '${v.name}' must have shape ${desc}, got ${fmtShape(t.shape)} (axis ${i} is ${got}, not ${d})`,
                'feed the size the model was exported with');
          if (typeof d === 'string') {
            const prev = symbols.get(d);
            if (prev && prev[0] !== got)
              throw new TesseraError('OnnxModel.run', `dimension '${d}' is ${prev[0]} in input '${prev[1]}' but ${got} in input '${v.name}'`,
                'give inputs that share a named dimension the same size');
            symbols.set(d, [got, v.name]);
          }
        });
      }
      env.set(v.name, t);
    }
  }
}

function info(v: ValueInfo, what: string): OnnxValueInfo {
  if (!v.elemType) throw new TesseraError('loadOnnx', `graph ${what} '${v.name}' is not a tensor (a sequence, map or optional)`,
    'only tensor inputs and outputs are supported');
  return { name: v.name, dtype: deviceDtype(v.elemType, `graph ${what} '${v.name}'`), onnxType: elemTypeName(v.elemType), shape: v.shape };
}
