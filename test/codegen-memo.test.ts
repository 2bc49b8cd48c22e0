/**
 * Codegen's memo by kernel structure (codegen/memo.ts): memoized code must equal freshly
 * generated code for every kernel, node for node (bindings, outputs, parameter constants), and
 * the repeated blocks of a model must hit it. No GPU needed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import { generate, type DeviceCaps, type KernelCode } from '../codegen/kernels.ts';
import { clearCodegenMemo, codegenMemo, kernelStructure } from '../codegen/memo.ts';
import type { Kernel } from '../ir/schedule/index.ts';
import { transformerStep } from '../bench/workloads/transformer-step.ts';
import { rnd, scheduleOf } from './helpers.ts';

const CAPS: DeviceCaps = { maxWorkgroupsPerDim: 65535, maxWorkgroupSize: 256, f16: false };

function fresh(k: Kernel, caps = CAPS): KernelCode {
  codegenMemo.enabled = false;
  try { return generate(k, caps); } finally { codegenMemo.enabled = true; }
}

function assertSame(a: KernelCode, b: KernelCode, what: string): void {
  assert.is(a.wgsl, b.wgsl, `${what}: wgsl`);
  assert.is(a.name, b.name, `${what}: name`);
  assert.equal(a.grid, b.grid, `${what}: grid`);
  assert.is(a.threads, b.threads, `${what}: threads`);
  for (const f of ['bindings', 'outputs', 'params'] as const) {
    assert.is(a[f]?.length, b[f]?.length, `${what}: ${f}`);
    (a[f] ?? []).forEach((n, i) => assert.ok(n === b[f]![i], `${what}: ${f}[${i}] is ${n}, fresh codegen has ${b[f]![i]}`));
  }
}

test('a 3-block training step: memoized code equals fresh code node for node; repeated blocks hit', () => {
  clearCodegenMemo();
  const ks = scheduleOf(transformerStep({ blocks: 3, B: 2, T: 8, D: 16, H: 2, optimizer: 'adamw' }), { maxBuffers: 16 });
  const h0 = codegenMemo.hits, m0 = codegenMemo.misses;
  const codes = ks.map((k) => generate(k, CAPS));
  const hits = codegenMemo.hits - h0, misses = codegenMemo.misses - m0;
  assert.is(hits + misses, ks.length);
  assert.ok(hits > ks.length / 3, `blocks 2 and 3 repeat block 1: ${hits} hits of ${ks.length}`);
  ks.forEach((k, i) => assertSame(codes[i]!, fresh(k), `kernel ${i} ${codes[i]!.name}`));
  // Every kernel again: all hits, still equal.
  ks.forEach((k, i) => assertSame(generate(k, CAPS), fresh(k), `again ${i}`));
});

test('parameter constants share an entry, each kernel binding its own; literals, names and caps do not', () => {
  clearCodegenMemo();
  const x = rnd([4, 8]), y = rnd([4, 8], { seed: 2 });
  const graphs = [x.mul(0.3).add(y), x.mul(0.7).add(y), y.mul(0.3).add(x), x.mul(2).add(y), ts.exp(x).mul(0.3), x.mul(0.3).add(y.mul(0.3))];
  const ks = graphs.map((g) => scheduleOf(g)[0]!);
  const codes = ks.map((k) => generate(k, CAPS));
  ks.forEach((k, i) => assertSame(codes[i]!, fresh(k), `graph ${i}`));
  assert.is(kernelStructure(ks[0]!).key, kernelStructure(ks[1]!).key); // 0.3 vs 0.7: one structure
  assert.is.not(codes[0]!.params![0], codes[1]!.params![0]);
  assert.is.not(kernelStructure(ks[0]!).key, kernelStructure(ks[3]!).key); // 2 is a literal in the WGSL
  assert.is.not(codes[0]!.wgsl, codes[3]!.wgsl);
  // One constant node read twice differs from two reads of two nodes.
  const twice = scheduleOf(x.mul(0.3).add(y.mul(0.4)))[0]!;
  assert.is.not(kernelStructure(ks[5]!).key, kernelStructure(twice).key);
  assertSame(generate(twice, CAPS), fresh(twice), 'two parameters');
  // Other device caps: other code.
  const small: DeviceCaps = { ...CAPS, maxWorkgroupSize: 64 };
  assertSame(generate(ks[0]!, small), fresh(ks[0]!, small), 'other caps');
  assert.is.not(generate(ks[0]!, small).wgsl, codes[0]!.wgsl);
});

test.run();
