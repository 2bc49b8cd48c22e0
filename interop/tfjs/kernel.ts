/**
 * Defining a tfjs kernel on Tessera: `kernel(name, impl)` makes the KernelConfig. `impl` gets the
 * inputs as Tessera tensors (by tfjs's input names; list kernels such as Concat get '0', '1', …),
 * the attributes and the backend, and returns lazy Tessera tensors; they become new tfjs tensors.
 */
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { TesseraError } from '../../ir/error.ts';
import type { TypedArray } from '../../ir/dtype.ts';
import type { Tensor } from '../../ops/tensor.ts';
import type { TesseraBackend } from './backend.ts';

export const BACKEND = 'tessera';

export type Inputs = Record<string, Tensor>;
/** A result: one tensor, several (Unpack), or a tensor with its host values (host kernels). */
export type Result = Tensor | Tensor[] | { t: Tensor; host: TypedArray };
export type Impl<A> = (x: Inputs, attrs: A, ctx: { backend: TesseraBackend; infos: Record<string, TensorInfo> }) => Result;

export function kernel<A = NamedAttrMap>(name: string, impl: Impl<A>): KernelConfig {
  return {
    kernelName: name,
    backendName: BACKEND,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const be = backend as TesseraBackend;
      const x: Inputs = {};
      const infos = inputs as unknown as Record<string, TensorInfo>;
      for (const [k, v] of Object.entries(infos)) if (v) x[k] = be.tensorOf(v, name);
      const r = impl(x, attrs as A, { backend: be, infos });
      if (Array.isArray(r)) return r.map((t) => be.output(t));
      return 'host' in r ? be.output(r.t, r.host) : be.output(r);
    },
  };
}

/** The inputs of a list kernel (Concat, Pack, AddN) in order. */
export const list = (x: Inputs): Tensor[] => Object.keys(x).sort((a, b) => +a - +b).map((k) => x[k]!);

/** A clear error for an attribute value a kernel does not support. */
export function unsupported(kernelName: string, what: string, fix = "run this op on the 'cpu' backend"): never {
  throw new TesseraError(kernelName, `${what} is not supported by the 'tessera' tfjs backend`, fix);
}
