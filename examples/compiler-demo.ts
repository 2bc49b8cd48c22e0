/**
 * What the compiler does to one expression: how many primitive ops became how many kernels, the
 * WGSL of the fused kernel, and the result checked against the float64 reference interpreter.
 * Run alone: `npx tsx examples/compiler-demo.ts`.
 */
import { exp, randn, relu, sigmoid, softmax, stats, tanh, compilerOptions, type Tensor } from '../index.ts';
import { interpret } from '../ir/interpret.ts';
import { toposort, type Node } from '../ir/node.ts';
import { runPasses } from '../ir/passes/index.ts';
import { engine, inputsOf } from '../runtime/engine.ts';
import { compileProgram } from '../runtime/program.ts';
import { hostDataOf } from '../runtime/storage.ts';

const countOps = (t: Tensor) => toposort([t.node]).filter((n) => !['input', 'const'].includes(n.op)).length;

async function show(title: string, t: Tensor, printWgsl: boolean): Promise<void> {
  const e = await engine();
  const roots = runPasses([t.node]);
  const fused = await compileProgram(roots, inputsOf(roots), e.dev, e.pipelines, compilerOptions);
  const unfused = await compileProgram(roots, inputsOf(roots), e.dev, e.pipelines, { ...compilerOptions, fuse: false });
  console.log(`\n${title}\n  ${countOps(t)} primitive ops -> ${fused.steps.length} kernel(s) fused (${unfused.steps.length} unfused): ${fused.steps.map((s) => s.code.name).join(', ')}`);
  if (printWgsl) console.log(`\n${fused.steps[0]!.code.wgsl}`);
  // Check the GPU result against the float64 interpreter.
  const expected = interpret([t.node], (n: Node) => hostDataOf(n)!)[0]!;
  const before = stats().dispatches;
  const got = await t.data();
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!)));
  console.log(`  ran ${stats().dispatches - before} dispatch(es); ${got.length} values, max error vs the float64 interpreter (relative where |value| > 1): ${worst.toExponential(2)}`);
  console.log(`  first values: ${Array.from(got.slice(0, 4), (v) => v.toFixed(5)).join(', ')}`);
}

export async function compilerDemo(): Promise<void> {
  const x = randn([1000], { seed: 1 });
  const chain = relu(x.mul(1.5).add(0.25)).mul(sigmoid(x)).sub(tanh(x).mul(0.5)).add(exp(x.mul(x).neg()));
  await show('relu(x*a+b) * sigmoid(x) - tanh(x)*0.5 + exp(-x*x) over 1000 elements', chain, true);
  const logits = randn([64, 10], { seed: 2 });
  await show('softmax over the last axis of [64, 10]', softmax(logits), false);
  const a = randn([32, 16], { seed: 3 }), w = randn([16, 8], { seed: 4 }), b = randn([8], { seed: 5 });
  await show('dense layer: relu(a @ w + b)', relu(a.matmul(w).add(b)), false);
}

if (import.meta.url === `file://${process.argv[1]}`) await compilerDemo();
