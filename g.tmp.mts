import { loadOnnx } from './interop/onnx/index.ts';
import { grad, sum, tensor, stats, type Tensor } from './index.ts';
import { modelBytes } from './test/onnx-helpers.ts';
const m = await loadOnnx(modelBytes('openwakeword-js/models/hello_deepa.onnx'));
const params = m.parameters();
const x = tensor(Float32Array.from({ length: 25 * 96 }, (_, i) => Math.sin(i)), { shape: [1, 25, 96] });
const out = (p: Record<string, Tensor>) => m.run({ 'onnx::Flatten_0': x }, { parameters: p })['39']!;
const g = grad((p: Record<string, Tensor>) => sum(out(p)))(params) as Record<string, Tensor>;
for (const [k, v] of Object.entries(g)) { const t = performance.now(); await v.data(); console.log(k, v.shape, (performance.now() - t).toFixed(0)); }
