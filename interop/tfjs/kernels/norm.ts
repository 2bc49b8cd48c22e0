/** Normalization: FusedBatchNorm (tfjs's batchNorm op; tfjs-layers' BatchNormalization in training and inference). */
import * as E from '../../../ops/elementwise.ts';
import { kernel } from '../kernel.ts';

export const normKernels = [
  kernel<{ varianceEpsilon: number }>('FusedBatchNorm', ({ x, mean, variance, offset, scale }, { varianceEpsilon }) => {
    let y = E.mul(E.sub(x!, mean!), E.rsqrt(E.add(variance!, varianceEpsilon)));
    if (scale) y = E.mul(y, scale);
    return offset ? E.add(y, offset) : y;
  }),
];
