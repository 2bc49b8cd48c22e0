/**
 * Whole models to and from files: the architecture as JSON (each layer's class and constructor
 * arguments; for functional models the graph of layer calls) and the weights as safetensors.
 * `model.save(path)` writes one safetensors file whose metadata holds the architecture JSON
 * (key `architecture`); `nn.loadModel(path or bytes)` rebuilds the model and loads its weights
 * (parameters and BatchNormalization statistics). `model.toJSON()` / `nn.modelFromJSON(json)` do
 * the architecture alone. A loaded model is not compiled (compile it to train or evaluate).
 *
 * Layers are found by class name: the library's own are registered; register your own classes
 * with `nn.registerLayer(MyLayer)` (their constructor arguments, set in `configArgs`, must be JSON).
 */
import { TesseraError } from '../../ir/error.ts';
import type { Tensor } from '../tensor.ts';
import { FunctionalModel, InputLayer } from './functional-model.ts';
import { layerClass, registerLayers, type Layer, type LayerClass } from './layers.ts';
import { Model } from './model.ts';
import { decodeSafetensors, readBytes } from './safetensors.ts';
import { Sequential } from './sequential.ts';
import { SymbolicTensor } from './symbolic.ts';

export interface LayerJSON { className: string; name: string; args: unknown[] }
type Ref = [string, number];
export interface ModelJSON {
  format: 'tessera-model';
  version: 1;
  kind: 'Sequential' | 'Functional';
  name: string;
  layers: LayerJSON[];
  /** Sequential: the built input feature shape (null if unbuilt). */
  inputShape?: number[] | null;
  /** Functional: layer indices of the inputs, each call's layer and inputs, the outputs. */
  graph?: { inputs: number[]; calls: { layer: number; inputs: Ref[] }[]; outputs: Ref[] };
}

/** Throws unless `v` survives JSON (no functions, class instances or non-finite numbers). */
function checkJSON(v: unknown, where: string): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') { if (Number.isFinite(v)) return; }
  else if (Array.isArray(v)) { v.forEach((x, i) => checkJSON(x, `${where}[${i}]`)); return; }
  else if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) { for (const [k, x] of Object.entries(v)) if (x !== undefined) checkJSON(x, `${where}.${k}`); return; }
  else if (v === undefined) return;
  throw new TesseraError('toJSON', `${where} is ${typeof v === 'function' ? 'a function' : String(v)}, which cannot be saved as JSON`,
    "use names for activations and initializers (activation: 'relu'), or save only the weights with saveWeights()");
}

function layerJSON(l: Layer): LayerJSON {
  const c = l.getConfig();
  if (!layerClass(c.className)) throw new TesseraError('toJSON', `layer '${l.name}' is of the unregistered class ${c.className}`, `call nn.registerLayer(${c.className}) first`);
  checkJSON(c.args, `${l.name} (${c.className}) argument`);
  return JSON.parse(JSON.stringify(c)) as LayerJSON;
}

/** The architecture of a Sequential or functional model as JSON-able data. */
export function modelToJSON(m: Model<Tensor | Tensor[]>): ModelJSON {
  const layers = m.layers.map(layerJSON);
  if (m instanceof Sequential) return { format: 'tessera-model', version: 1, kind: 'Sequential', name: m.name, layers, inputShape: m.inputShape ? [...m.inputShape] : null };
  if (m instanceof FunctionalModel) return { format: 'tessera-model', version: 1, kind: 'Functional', name: m.name, layers, graph: m.graphSpec() };
  throw new TesseraError('toJSON', `cannot save a model of class ${m.constructor.name}`, 'save Sequential or functional (nn.model) models, or use saveWeights()');
}

function makeLayer(j: LayerJSON): Layer {
  const cls = layerClass(j?.className);
  if (!cls) throw new TesseraError('modelFromJSON', `unknown layer class '${j?.className}'`, 'register custom layer classes with nn.registerLayer(MyLayer) before loading');
  const l = new (cls as unknown as new (...a: unknown[]) => Layer)(...(j.args ?? []));
  (l as { name: string }).name = j.name;
  return l;
}

/** Rebuilds a model (fresh weights) from modelToJSON's data. */
export function modelFromJSON(json: ModelJSON | string): Model<Tensor | Tensor[]> {
  const j: ModelJSON = typeof json === 'string' ? JSON.parse(json) : json;
  if (j?.format !== 'tessera-model' || !Array.isArray(j.layers)) throw new TesseraError('modelFromJSON', 'this is not a Tessera model architecture', 'pass what model.toJSON() returned, or a file model.save() wrote');
  const layers = j.layers.map(makeLayer);
  if (j.kind === 'Sequential') {
    const m = new Sequential(layers, { name: j.name });
    if (j.inputShape && !m.built) m.build(j.inputShape);
    return m;
  }
  const g = j.graph!;
  const inputs = g.inputs.map((li) => {
    const l = layers[li];
    if (!(l instanceof InputLayer)) throw new TesseraError('modelFromJSON', `layer ${li} should be an input layer`);
    return new SymbolicTensor(l.shape, l, []);
  });
  const calls: SymbolicTensor[] = [];
  const ref = ([kind, i]: Ref) => (kind === 'input' ? inputs[i] : calls[i]) ?? (() => { throw new TesseraError('modelFromJSON', `the graph refers to a missing ${kind} ${i}`); })();
  for (const c of g.calls) calls.push(layers[c.layer]!.call(c.inputs.map(ref)));
  return new FunctionalModel({ inputs, outputs: g.outputs.map(ref), name: j.name });
}

/** Saves architecture and weights in one safetensors file (the architecture JSON in its metadata); returns the bytes. */
export async function saveModel(m: Model<Tensor | Tensor[]>, path?: string): Promise<Uint8Array> {
  return m.saveWeights(path, { architecture: JSON.stringify(modelToJSON(m)) });
}

/** Loads a model saved by model.save (a path in Node, or the bytes): architecture and weights. */
export async function loadModel(src: string | Uint8Array | ArrayBuffer): Promise<Model<Tensor | Tensor[]>> {
  const { tensors, metadata } = decodeSafetensors(await readBytes(src, 'loadModel'), 'loadModel');
  if (!metadata.architecture) throw new TesseraError('loadModel', 'the file has weights but no architecture', 'save with model.save(path); a file from saveWeights() loads into an existing model with loadWeights()');
  const m = modelFromJSON(metadata.architecture);
  m.assignWeights(tensors);
  return m;
}

/** Registers user layer classes so modelFromJSON / loadModel can build them. */
export const registerLayer = (...classes: LayerClass[]) => registerLayers(classes);

declare module './model.ts' {
  interface Model<Out extends Tensor | Tensor[] = Tensor> {
    /** The architecture as JSON-able data (see nn.modelFromJSON). */
    toJSON(): ModelJSON;
    /** Saves architecture and weights in one safetensors file (`path` in Node); returns the bytes. Load with nn.loadModel. */
    save(path?: string): Promise<Uint8Array>;
  }
}
const P = Model.prototype as unknown as Record<string, unknown>;
P.toJSON = function (this: Model<Tensor | Tensor[]>) { return modelToJSON(this); };
P.save = function (this: Model<Tensor | Tensor[]>, path?: string) { return saveModel(this, path); };
