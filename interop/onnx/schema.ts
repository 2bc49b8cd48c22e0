/**
 * ONNX's messages (onnx.proto, proto2) decoded with the wire reader: model, graph, node,
 * attribute, tensor and value info. Only the fields the importer uses are read; the rest are
 * skipped. Tensor payloads stay as views into the file until tensor-data.ts decodes them.
 * Field numbers are onnx.proto's.
 */
import { TesseraError } from '../../ir/error.ts';
import { fields, readDouble, readFloat, readInt64, readUint64, Reader, Wire } from './proto.ts';

/** TensorProto.DataType */
export const ElemType = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const;
export const elemTypeName = (t: number) => Object.entries(ElemType).find(([, v]) => v === t)?.[0].toLowerCase() ?? `type ${t}`;

export interface TensorProto {
  name: string;
  dims: number[];
  dataType: number;
  raw: Uint8Array | null;
  floatData: number[]; int32Data: number[]; int64Data: number[]; doubleData: number[]; uint64Data: number[];
  stringCount: number;
  external: boolean;
}

/** AttributeProto.AttributeType */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 } as const;

export interface Attribute {
  name: string; type: number;
  f?: number; i?: number; s?: Uint8Array; t?: TensorProto; hasGraph: boolean;
  floats: number[]; ints: number[]; strings: Uint8Array[];
}

export interface NodeProto { name: string; opType: string; domain: string; inputs: string[]; outputs: string[]; attrs: Map<string, Attribute> }

/** A value's declared type: element type and dims (a number, a symbolic name, or null when unknown); shape null when unranked. */
export interface ValueInfo { name: string; elemType: number; shape: (number | string | null)[] | null }

export interface Graph {
  name: string; nodes: NodeProto[]; initializers: TensorProto[]; inputs: ValueInfo[]; outputs: ValueInfo[]; sparseInitializers: number;
}

export interface Model { irVersion: number; opsets: Map<string, number>; producer: string; graph: Graph; functions: number }

export function decodeTensor(r: Reader): TensorProto {
  const t: TensorProto = { name: '', dims: [], dataType: 0, raw: null, floatData: [], int32Data: [], int64Data: [], doubleData: [], uint64Data: [],
    stringCount: 0, external: false };
  fields(r, (f, w, r) => {
    switch (f) {
      case 1: r.repeated(w, t.dims, readInt64, Wire.Varint); break;
      case 2: t.dataType = r.int64(); break;
      case 4: r.repeated(w, t.floatData, readFloat, Wire.Fixed32); break;
      case 5: r.repeated(w, t.int32Data, readInt64, Wire.Varint); break;
      case 6: r.bytes(); t.stringCount++; break;
      case 7: r.repeated(w, t.int64Data, readInt64, Wire.Varint); break;
      case 8: t.name = r.string(); break;
      case 9: t.raw = r.bytes(); break;
      case 10: r.repeated(w, t.doubleData, readDouble, Wire.Fixed64); break;
      case 11: r.repeated(w, t.uint64Data, readUint64, Wire.Varint); break;
      case 13: r.bytes(); t.external = true; break;
      case 14: if (r.int64() === 1) t.external = true; break;
    }
  });
  return t;
}

function decodeAttribute(r: Reader): Attribute {
  const a: Attribute = { name: '', type: 0, hasGraph: false, floats: [], ints: [], strings: [] };
  fields(r, (f, w, r) => {
    switch (f) {
      case 1: a.name = r.string(); break;
      case 2: a.f = r.float32(); break;
      case 3: a.i = r.int64(); break;
      case 4: a.s = r.bytes(); break;
      case 5: a.t = decodeTensor(r.message()); break;
      case 6: r.bytes(); a.hasGraph = true; break;
      case 7: r.repeated(w, a.floats, readFloat, Wire.Fixed32); break;
      case 8: r.repeated(w, a.ints, readInt64, Wire.Varint); break;
      case 9: a.strings.push(r.bytes()); break;
      case 11: r.bytes(); a.hasGraph = true; break;
      case 20: a.type = r.int64(); break;
    }
  });
  return a;
}

function decodeNode(r: Reader): NodeProto {
  const n: NodeProto = { name: '', opType: '', domain: '', inputs: [], outputs: [], attrs: new Map() };
  fields(r, (f, _w, r) => {
    switch (f) {
      case 1: n.inputs.push(r.string()); break;
      case 2: n.outputs.push(r.string()); break;
      case 3: n.name = r.string(); break;
      case 4: n.opType = r.string(); break;
      case 5: { const a = decodeAttribute(r.message()); n.attrs.set(a.name, a); break; }
      case 7: n.domain = r.string(); break;
    }
  });
  return n;
}

function decodeShape(r: Reader): (number | string | null)[] {
  const dims: (number | string | null)[] = [];
  fields(r, (f, _w, r) => {
    if (f !== 1) return;
    let d = null as number | string | null;
    fields(r.message(), (g, _w2, q) => { if (g === 1) d = q.int64(); else if (g === 2) d = q.string() || null; });
    dims.push(d);
  });
  return dims;
}

function decodeValueInfo(r: Reader): ValueInfo {
  const v: ValueInfo = { name: '', elemType: 0, shape: null };
  fields(r, (f, _w, r) => {
    if (f === 1) v.name = r.string();
    else if (f === 2) fields(r.message(), (g, _w2, q) => {
      if (g !== 1) return; // tensor_type only; sequences and maps stay elemType 0
      fields(q.message(), (h, _w3, s) => { if (h === 1) v.elemType = s.int64(); else if (h === 2) v.shape = decodeShape(s.message()); });
    });
  });
  return v;
}

function decodeGraph(r: Reader): Graph {
  const g: Graph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [], sparseInitializers: 0 };
  fields(r, (f, _w, r) => {
    switch (f) {
      case 1: g.nodes.push(decodeNode(r.message())); break;
      case 2: g.name = r.string(); break;
      case 5: g.initializers.push(decodeTensor(r.message())); break;
      case 11: g.inputs.push(decodeValueInfo(r.message())); break;
      case 12: g.outputs.push(decodeValueInfo(r.message())); break;
      case 15: r.bytes(); g.sparseInitializers++; break;
    }
  });
  return g;
}

/** Decodes a ModelProto; throws a TesseraError on bytes that are not one. */
export function decodeModel(bytes: Uint8Array): Model {
  const m: Model = { irVersion: 0, opsets: new Map(), producer: '', graph: null as unknown as Graph, functions: 0 };
  fields(new Reader(bytes), (f, _w, r) => {
    switch (f) {
      case 1: m.irVersion = r.int64(); break;
      case 2: m.producer = r.string(); break;
      case 7: m.graph = decodeGraph(r.message()); break;
      case 8: {
        let domain = '', version = 0;
        fields(r.message(), (g, _w2, q) => { if (g === 1) domain = q.string(); else if (g === 2) version = q.int64(); });
        m.opsets.set(domain === 'ai.onnx' ? '' : domain, version);
        break;
      }
      case 25: r.bytes(); m.functions++; break;
    }
  });
  if (!m.graph || m.irVersion <= 0)
    throw new TesseraError('loadOnnx', `the bytes hold no ONNX model (${m.graph ? 'no ir_version' : 'no graph'})`,
      'pass the bytes of a .onnx file (ModelProto), e.g. new Uint8Array(await (await fetch(url)).arrayBuffer())');
  return m;
}
