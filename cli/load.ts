/**
 * What a `tessera` command works on: a module that exports either a function and its example
 * arguments (`export default (x) => ...; export const inputs = [x]`), tensors, or a model
 * (`export const model = ...` with example data `x` and, for a compiled model, labels `y`: the
 * command then looks at one train step — forward, backward and update — else at the forward pass).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tensor, Tensor, type NestedArray } from '../index.ts';
import { forwardTarget, trainStepTarget } from '../ops/inspect/model-step.ts';
import { Model } from '../ops/nn/model.ts';

export class CliError extends Error {}

export interface Loaded { name: string; target: Tensor | unknown[] | ((...a: any[]) => unknown); args: unknown[]; what: string }

const asTensor = (v: unknown, what: string): Tensor => {
  if (v instanceof Tensor) return v;
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return tensor(v as NestedArray, { dtype: 'float32' });
  throw new CliError(`${what} must be a Tensor or a (nested) array of numbers`);
};

export async function loadTarget(file: string | undefined, exportName?: string): Promise<Loaded> {
  if (!file) throw new CliError('no module given (e.g. tessera explain examples/cli-model.ts)');
  const abs = path.resolve(file);
  if (!existsSync(abs)) throw new CliError(`no such file: ${file}`);
  let mod: Record<string, unknown>;
  try { mod = await import(pathToFileURL(abs).href); } catch (e) { throw new CliError(`could not load ${file}: ${(e as Error).message}`); }
  const names = Object.keys(mod);
  const name = exportName ?? (mod.default !== undefined ? 'default' : names.find((k) => mod[k] instanceof Model || typeof mod[k] === 'function'));
  if (!name || !(name in mod))
    throw new CliError(exportName ? `${file} has no export named '${exportName}' (it exports: ${names.join(', ') || 'nothing'})`
      : `${file} exports no function, model or tensor to look at (it exports: ${names.join(', ') || 'nothing'}); `
        + 'export one as default, or pass --export NAME');
  const value = mod[name];
  if (value instanceof Model) {
    if (mod.x === undefined)
      throw new CliError(`${file}: the model '${name}' needs example inputs: export const x = ... (and y, labels, for a train step)`);
    const x = asTensor(mod.x, 'x');
    const t = mod.y !== undefined && value.loss ? trainStepTarget(value, x, asTensor(mod.y, 'y')) : forwardTarget(value, x);
    return { name, ...t };
  }
  if (typeof value === 'function') {
    const raw = typeof mod.inputs === 'function' ? await (mod.inputs as () => unknown)() : mod.inputs;
    if (raw === undefined && value.length > 0)
      throw new CliError(`${file}: the function '${name}' takes ${value.length} argument(s): export const inputs = [...] with example arguments`);
    if (raw !== undefined && !Array.isArray(raw)) throw new CliError(`${file}: 'inputs' must be an array of arguments`);
    return { name, what: `function '${name}'`, target: value as (...a: unknown[]) => unknown, args: (raw as unknown[] | undefined) ?? [] };
  }
  if (value instanceof Tensor || Array.isArray(value)) return { name, what: `tensor export '${name}'`, target: value as Tensor, args: [] };
  throw new CliError(`${file}: export '${name}' is a ${typeof value}, not a function, model or tensor`);
}
