/** ONNX MatMul and Gemm: one Tessera matmul each (bias and scaling fuse into its epilogue). */
import * as E from '../../../ops/elementwise.ts';
import { matmul } from '../../../ops/linalg.ts';
import * as M from '../../../ops/movement.ts';
import type { OnnxOp } from '../context.ts';

export const LINALG: Record<string, OnnxOp> = {
  MatMul: { device: (c) => matmul(c.tensor(0), c.tensor(1)) },
  Gemm: {
    device: (c) => {
      let a = c.tensor(0), b = c.tensor(1);
      if (a.rank !== 2 || b.rank !== 2) throw c.error(`A [${a.shape.join(', ')}] and B [${b.shape.join(', ')}] must be 2-D`,
        'use MatMul for batched products');
      if (c.int('transA', 0)) a = M.transpose(a);
      if (c.int('transB', 0)) b = M.transpose(b);
      const alpha = c.float('alpha', 1), beta = c.float('beta', 1);
      let y = matmul(a, b);
      if (alpha !== 1) y = E.mul(y, alpha);
      if (c.has(2) && beta !== 0) y = E.add(y, beta === 1 ? c.tensor(2) : E.mul(c.tensor(2), beta));
      return y;
    },
  },
};
