/**
 * `npm run demo`: what the compiler does (ops -> kernels -> WGSL, checked against the float64
 * interpreter), then the Keras program this project started from, then a model on real data.
 */
import { compilerDemo } from './compiler-demo.ts';

console.log('=== 1. The compiler: fusion and generated WGSL ===');
await compilerDemo();
console.log('\n=== 2. The seed program: Dense(10, relu) -> Dense(1, sigmoid), Adam, binary cross-entropy ===');
await import('./seed.ts');
console.log('\n=== 3. Real data: breast-cancer classification (held-out accuracy) ===');
await import('./breast-cancer.ts');
