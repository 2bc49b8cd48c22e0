/** profile(): per-kernel times, counts against measured ceilings, source lines, and the roofline SVG. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import { profile } from '../index.ts';
import { engine } from '../runtime/engine.ts';
import { rnd } from './helpers.ts';
import { checkXml } from './xml-helpers.ts';

test('profile times each kernel of a program and names its source lines', async () => {
  const x = rnd([8, 16], { seed: 1 }), w = rnd([16, 8], { seed: 2 });
  const r = await profile((a: ts.Tensor, b: ts.Tensor) => ts.softmax(a.matmul(b)).add(a.sum(1, true)), x, w);
  assert.ok(r.kernels.length >= 2, String(r));
  assert.ok(['timestamp-query', 'dispatch alone'].includes(r.method));
  assert.ok(r.ceilings.copyGBs > 0 && r.ceilings.fmaGFLOPs > 0);
  for (const k of r.kernels) {
    assert.ok(Number.isFinite(k.ms) && k.ms >= 0, `${k.name}: ${k.ms} ms`);
    assert.ok(k.flops > 0 && k.bytes > 0);
    assert.ok(Number.isFinite(k.intensity) && k.intensity > 0);
    assert.ok(k.wgsl.includes('fn main'));
    assert.ok(k.sources.some((s) => s.user?.startsWith('test/profile.test.ts:')), JSON.stringify(k.sources));
  }
  assert.ok(r.kernels.some((k) => k.sources.some((s) => s.via?.startsWith('softmax '))));
  const text = String(r);
  for (const k of r.kernels) assert.ok(text.includes(k.name), text);
  const svg = r.toSVG();
  checkXml(svg);
  assert.is((svg.match(/class="point"/g) ?? []).length, r.kernels.filter((k) => k.ms > 0).length);
});

test('a profile of a program without arithmetic still draws', async () => {
  const r = await profile(rnd([4, 6], { seed: 3 }).transpose());
  assert.is(r.kernels.length, 1);
  assert.is(r.kernels[0]!.flops, 0);
  checkXml(r.toSVG());
});

test('without timestamp queries each kernel is timed alone', async () => {
  const e = await engine();
  const had = e.dev.caps.timestamps;
  e.dev.caps.timestamps = false;
  try {
    const x = rnd([4, 8], { seed: 4 });
    const r = await profile((a: ts.Tensor) => ts.softmax(a).add(a.sum(1, true)), x);
    assert.is(r.method, 'dispatch alone');
    assert.ok(r.kernels.length >= 1 && r.kernels.every((k) => k.ms > 0), String(r));
  } finally { e.dev.caps.timestamps = had; }
});

test.run();
