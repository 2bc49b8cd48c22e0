/** explain(): the kernels the compiler makes for known programs, and well-formed SVG/DOT reports. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import { compilerOptions, explain, nn } from '../index.ts';
import { withSources } from '../ops/inspect/sources.ts';
import { rnd, throwsTessera, wgslOf } from './helpers.ts';
import { checkXml } from './xml-helpers.ts';

test('the XML checker rejects malformed markup', () => {
  assert.equal(checkXml('<svg a="1"><g><text>x &amp; y</text></g><rect/></svg>'), ['svg', 'g', 'text', 'rect']);
  for (const bad of ['<svg><g></svg>', '<svg a=1></svg>', '<svg><text>a & b</text></svg>', '<svg></svg><svg></svg>', '<svg a="1" a="2"/>',
    '<svg><text>a < b</text></svg>'])
    assert.throws(() => checkXml(bad), undefined, bad);
});

test('softmax is one row kernel of its primitives', async () => {
  const x = rnd([4, 8], { seed: 1 });
  const r = await explain((v: ts.Tensor) => ts.softmax(v), x);
  assert.is(r.kernels.length, 1);
  const k = r.kernels[0]!;
  assert.is(k.kind, 'row');
  assert.equal(k.primitives, ['max', 'sub', 'exp', 'sum', 'div']);
  assert.equal(k.reads.map((b) => b.label), ['a0']);
  assert.is(k.writes.length, 1);
  assert.is(k.bytes, 2 * 32 * 4);
  // max and sum read 32 elements each; sub, exp and div produce 32 each
  assert.is(k.flops, 5 * 32);
  assert.is(r.analysis.unfused.kernels, 5);
  assert.ok(r.analysis.unfused.bytes > k.bytes);
  assert.ok(String(r).includes('max sub exp sum div'), String(r));
  assert.is(k.name, 'row_max_sub_exp_sum_div');
  assert.ok(r.wgsl(0).includes('fn main'));
});

test('the report names the kernels the runtime compiles', async () => {
  const x = rnd([6, 16], { seed: 2 }), w = rnd([16, 8], { seed: 3 });
  const build = () => ts.softmax(x.matmul(w).relu());
  const r = await explain(build());
  const compiled = await wgslOf(build());
  assert.equal(r.kernels.map((k) => k.name), compiled.map((s) => /\/\/ kernel (\S+)/.exec(s)![1]));
  assert.is(r.kernels.length, 2);
  assert.is(r.kernels[1]!.reads[0]!.producer, 0, 'the softmax kernel reads the matmul kernel');
});

test('Dense with bias and relu is one matmul kernel', async () => {
  const layer = new nn.Dense(5, { activation: 'relu', inputShape: [8] });
  layer.build([8]);
  const x = rnd([4, 8], { seed: 4 });
  const r = await explain((p: nn.Params, v: ts.Tensor) => layer.apply(p, v), layer.params, x);
  assert.is(r.kernels.length, 1);
  assert.is(r.kernels[0]!.kind, 'matmul');
  assert.equal(r.kernels[0]!.primitives, ['matmul', 'add', 'max']);
  assert.equal(r.kernels[0]!.reads.map((b) => b.label).sort(), ['a0.bias', 'a0.kernel', 'a1']);
  assert.is(r.kernels[0]!.flops, 2 * 4 * 5 * 8 + 2 * 4 * 5);
});

test('layerNorm is one kernel; without fusion every primitive is one', async () => {
  const x = rnd([3, 16], { seed: 5 });
  assert.is((await explain(ts.layerNorm(x))).kernels.length, 1);
  compilerOptions.fuse = false;
  try {
    const r = await explain(x.mul(2).add(1).exp());
    assert.is(r.kernels.length, 3);
    assert.equal(r.kernels.map((k) => k.primitives), [['mul'], ['add'], ['exp']]);
  } finally { compilerOptions.fuse = true; }
});

test('SVG and DOT reports are well-formed and show every kernel', async () => {
  const x = rnd([6, 16], { seed: 6 }), w = rnd([16, 8], { seed: 7 });
  const r = await explain((a: ts.Tensor, b: ts.Tensor) => [ts.softmax(a.matmul(b).relu()), a.sum(1)], x, w);
  const svg = r.toSVG();
  const tags = checkXml(svg);
  assert.is(tags[0], 'svg');
  assert.is((svg.match(/class="kernel /g) ?? []).length, r.kernels.length);
  for (const k of r.kernels) assert.ok(svg.includes(k.name.slice(0, 12)), k.name);
  const dot = r.toDOT();
  assert.is((dot.match(/subgraph cluster_k/g) ?? []).length, r.kernels.length);
  assert.ok(dot.trim().startsWith('digraph') && dot.trim().endsWith('}'));
});

test('labels from user code are escaped in the SVG', async () => {
  const x = ts.tensor([1, 2, 3]);
  const r = await explain({ '<&"x>': x.mul(2) } as never);
  checkXml(r.toSVG());
});

test('source lines are recorded only while capture is on', async () => {
  const x = rnd([4, 8], { seed: 8 });
  const off = await explain(ts.softmax(x.mul(3)));
  assert.equal(off.kernels[0]!.sources, []);
  const y = withSources(() => ts.softmax(x.mul(5)));
  const on = await explain(y);
  const sites = on.kernels[0]!.sources;
  assert.ok(sites.some((s) => s.user?.startsWith('test/explain.test.ts:')), JSON.stringify(sites));
  assert.ok(sites.some((s) => s.via?.startsWith('softmax ops/nn/functional.ts:')), JSON.stringify(sites));
  assert.ok(String(on).includes('source lines:'));
});

test('a model: explain(model, x, y) is one train step, explain(model, x) the forward pass', async () => {
  const model = new ts.Sequential([new ts.Dense(10, { activation: 'relu', inputShape: [3] }), new ts.Dense(1, { activation: 'sigmoid' })]);
  model.compile({ optimizer: 'adam', loss: 'binaryCrossentropy' });
  const x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], y = [[0], [1], [0]];
  const fwd = await explain(model, x);
  assert.ok(fwd.summary().startsWith('forward pass of sequential'), fwd.summary());
  assert.equal(fwd.kernels.map((k) => k.kind), ['matmul', 'matmul']);
  assert.ok(fwd.kernels[1]!.primitives.includes('sigmoid'), 'the output activation is fused into the last matmul');
  const [d1, d2] = model.layers.map((l) => l.name);
  assert.equal(fwd.inputs.map((b) => b.label).sort(), [`params.${d1}.bias`, `params.${d1}.kernel`, `params.${d2}.bias`, `params.${d2}.kernel`,
    'x'].sort());
  const step = await explain(model, x, y);
  assert.ok(step.summary().startsWith('train step of sequential'));
  assert.ok(step.kernels.length > fwd.kernels.length);
  // Adam writes every parameter and its two moments: 4 tensors x 3 outputs.
  assert.is(step.outputs.length >= 12, true, `${step.outputs.length} outputs`);
  assert.ok(step.inputs.some((b) => b.label.startsWith('opt.')), step.inputs.map((b) => b.label).join());
  await throwsTessera(() => explain(model), 'explain', 'x must be a Tensor or an array');
});

test('a reshape of an input needs no kernel, as when realized', async () => {
  const x = rnd([2, 6], { seed: 9 });
  const r = await explain([x.reshape([3, 4]), x.mul(2)]);
  assert.equal(r.kernels.map((k) => k.primitives), [['mul']]);
  assert.is(r.outputs[0]!.producer, null, 'the reshape aliases the input');
  assert.equal(r.outputs[0]!.shape, [2, 6]);
});

test('bad targets fail with a TesseraError', async () => {
  await throwsTessera(() => explain(42 as never), 'explain', 'expected a Tensor');
  await throwsTessera(() => explain(async () => ts.tensor([1])), 'explain', 'Promise');
});

test.run();
