/**
 * Turns a raw JS error thrown by a user function while it is traced (jit, grad) into a TesseraError
 * that says what went wrong in Tessera's terms. The usual causes: a plain JS array passed where the
 * function expects a tensor (arrays are pytrees, so its numbers reach the function as JS values),
 * or arguments of another pytree structure than the function reads (a missing key).
 */
import { TesseraError } from '../ir/error.ts';
import { Tensor } from './tensor.ts';

/** Whether x is a non-empty (nested) array of JS numbers or booleans only, with no tensor in it. */
const isNumericArray = (x: unknown): boolean =>
  Array.isArray(x) && x.length > 0 && x.every((v) => typeof v === 'number' || typeof v === 'boolean' || isNumericArray(v));

/** A short description of a pytree's shape for messages: {w: T, b: T}, [T, 3]. */
export function describeTree(x: unknown, depth = 0): string {
  if (x instanceof Tensor) return `Tensor(${x.dtype}[${x.shape.join(', ')}])`;
  if (depth > 3) return '…';
  if (Array.isArray(x)) return `[${x.slice(0, 6).map((v) => describeTree(v, depth + 1)).join(', ')}${x.length > 6 ? ', …' : ''}]`;
  if (typeof x === 'object' && x !== null) {
    const keys = Object.keys(x);
    const parts = keys.slice(0, 8).map((k) => `${k}: ${describeTree((x as Record<string, unknown>)[k], depth + 1)}`);
    return `{${parts.join(', ')}${keys.length > 8 ? ', …' : ''}}`;
  }
  return typeof x === 'function' ? 'a function' : String(x);
}

/**
 * Rethrows `e` (thrown by the traced function) as a TesseraError when it is a TypeError, with a
 * hint from the arguments; `earlier` are descriptions of the arguments of earlier traces.
 */
export function traceError(e: unknown, op: string, args: readonly unknown[], earlier: readonly string[] = []): never {
  if (!(e instanceof TypeError)) throw e;
  const what = `the function threw ${e.name}: ${e.message} while being traced`;
  const plain = args.findIndex(isNumericArray);
  const now = describeTree([...args]);
  let err: TesseraError;
  if (plain >= 0)
    err = new TesseraError(op,
      `${what}; argument ${plain} is a plain array ${describeTree(args[plain])}: ` +
        'arrays are pytrees, so its numbers reach the function as JS numbers, not a tensor',
      `wrap the data with tensor(...) before the call`);
  else if (earlier.length && !earlier.includes(now))
    err = new TesseraError(op,
      `${what}; it was called with arguments ${now}, a different structure than an earlier call's ${earlier[earlier.length - 1]}`,
      'pass arguments of the pytree structure the function reads (the same keys and nesting)');
  else
    err = new TesseraError(op, `${what}, with arguments ${now}`,
      'pass tensors (or pytrees of tensors: arrays and plain objects) where the function computes with tensors');
  (err as Error & { cause?: unknown }).cause = e;
  throw err;
}
