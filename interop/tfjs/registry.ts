/** The kernel registry: every tfjs kernel the 'tessera' backend implements, by family. */
import { registerKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { activationKernels } from './kernels/activations.ts';
import { convKernels } from './kernels/conv.ts';
import { creationKernels } from './kernels/creation.ts';
import { elementwiseKernels } from './kernels/elementwise.ts';
import { gatherKernels } from './kernels/gather.ts';
import { matmulKernels } from './kernels/matmul.ts';
import { movementKernels } from './kernels/movement.ts';
import { normKernels } from './kernels/norm.ts';
import { poolKernels } from './kernels/pool.ts';
import { reduceKernels } from './kernels/reduce.ts';

export const kernelConfigs: readonly KernelConfig[] = [
  ...elementwiseKernels, ...activationKernels, ...reduceKernels, ...movementKernels, ...matmulKernels,
  ...convKernels, ...poolKernels, ...normKernels, ...creationKernels, ...gatherKernels,
];

export function registerKernels(): void {
  for (const k of kernelConfigs) registerKernel(k);
}
