/** Matrix products: BatchMatMul and _FusedMatMul (bias and activation fuse into the matmul's epilogue). */
import { add } from '../../../ops/elementwise.ts';
import { matmul as mm } from '../../../ops/linalg.ts';
import { transpose } from '../../../ops/movement.ts';
import type { Tensor } from '../../../ops/tensor.ts';
import { kernel } from '../kernel.ts';
import { activate } from './activations.ts';

interface MatMulAttrs { transposeA: boolean; transposeB: boolean; activation?: string; leakyreluAlpha?: number }

const matmul = (a: Tensor, b: Tensor, { transposeA, transposeB }: MatMulAttrs) =>
  mm(transposeA ? transpose(a, -1, -2) : a, transposeB ? transpose(b, -1, -2) : b);

export const matmulKernels = [
  kernel<MatMulAttrs>('BatchMatMul', ({ a, b }, attrs) => matmul(a!, b!, attrs)),
  kernel<MatMulAttrs>('_FusedMatMul', ({ a, b, bias, preluActivationWeights }, attrs) => {
    const y = matmul(a!, b!, attrs);
    return activate(bias ? add(y, bias) : y, attrs.activation, preluActivationWeights, attrs.leakyreluAlpha);
  }),
];
