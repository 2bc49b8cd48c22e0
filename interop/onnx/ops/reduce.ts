/** ONNX reductions (ReduceSum/Mean/Max/Min/Prod/SumSquare/L2/LogSumExp, ArgMax/ArgMin) and Softmax/LogSoftmax. */
import * as E from '../../../ops/elementwise.ts';
import * as R from '../../../ops/reduce.ts';
import * as M from '../../../ops/movement.ts';
import { logSoftmax, softmax } from '../../../ops/nn/functional.ts';
import type { Tensor } from '../../../ops/tensor.ts';
import type { OnnxOp, OpContext } from '../context.ts';
import { axesOf, normAxisOf } from './shape.ts';
import { indexList } from './slice.ts';
import { gather } from '../../../ops/gather.ts';

type Reducer = (x: Tensor, axes: number[], keep: boolean) => Tensor;

const REDUCERS: Record<string, Reducer> = {
  ReduceSum: (x, a, k) => R.sum(x, a, k),
  ReduceMean: (x, a, k) => R.mean(x, a, k),
  ReduceMax: (x, a, k) => R.max(x, a, k),
  ReduceMin: (x, a, k) => R.min(x, a, k),
  ReduceProd: (x, a, k) => {
    // prod = sign * exp(sum(log|x|)), with the sign from the count of negatives and 0 for any zero.
    const negs = R.sum(E.lt(x, 0).cast('int32'), a, k), zeros = R.max(E.eq(x, 0).cast('int32'), a, k);
    const mag = E.exp(R.sum(E.log(E.abs(x)), a, k));
    return E.where(E.gt(zeros, 0), 0, E.where(E.eq(E.mod(negs, 2), 1), E.neg(mag), mag));
  },
  ReduceSumSquare: (x, a, k) => R.sum(E.mul(x, x), a, k),
  ReduceL1: (x, a, k) => R.sum(E.abs(x), a, k),
  ReduceL2: (x, a, k) => E.sqrt(R.sum(E.mul(x, x), a, k)),
  ReduceLogSumExp: (x, a, k) => R.logsumexp(x, a, k),
};

function reduce(name: string): OnnxOp {
  return {
    device: (c) => {
      const x = c.tensor(0), keep = c.int('keepdims', 1) === 1;
      // Axes moved from an attribute to an input in opset 13 for ReduceSum, in 18 for the others.
      const axes = axesOf(c, 1, name === 'ReduceSum' ? 13 : 18);
      if (!axes?.length && c.int('noop_with_empty_axes', 0)) return x;
      const ax = (axes?.length ? axes : [...Array(x.rank).keys()]).map((a) => normAxisOf(c, a, x.rank));
      return REDUCERS[name]!(x, ax, keep);
    },
  };
}

function argReduce(kind: 'max' | 'min'): OnnxOp {
  return {
    device: (c) => {
      const x = c.tensor(0), a = normAxisOf(c, c.int('axis', 0), x.rank), keep = c.int('keepdims', 1) === 1;
      if (c.int('select_last_index', 0)) {
        // The last extreme index: arg over the reversed axis, mapped back.
        const n = x.shape[a]!, rev = gather(x, indexList(Array.from({ length: n }, (_, i) => n - 1 - i)), a);
        return E.sub(n - 1, kind === 'max' ? R.argmax(rev, a, keep) : R.argmin(rev, a, keep));
      }
      return kind === 'max' ? R.argmax(x, a, keep) : R.argmin(x, a, keep);
    },
  };
}

/** Softmax and LogSoftmax: before opset 13 the input is flattened to 2-D at `axis` (default 1); since 13, one axis (default -1). */
function softmaxOp(f: typeof softmax): OnnxOp {
  return {
    device: (c: OpContext) => {
      const x = c.tensor(0);
      if (c.opset >= 13) return f(x, normAxisOf(c, c.int('axis', -1), x.rank));
      const a = normAxisOf(c, c.int('axis', 1), x.rank);
      const rows = x.shape.slice(0, a).reduce((p, q) => p * q, 1);
      return M.reshape(f(M.reshape(x, [rows, x.size / Math.max(rows, 1)]), 1), x.shape);
    },
  };
}

export const REDUCE: Record<string, OnnxOp> = {
  ...Object.fromEntries(Object.keys(REDUCERS).map((k) => [k, reduce(k)])),
  ArgMax: argReduce('max'),
  ArgMin: argReduce('min'),
  Softmax: softmaxOp(softmax),
  LogSoftmax: softmaxOp(logSoftmax),
};
