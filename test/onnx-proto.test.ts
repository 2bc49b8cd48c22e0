/** The protobuf wire reader and ONNX decoding: varints, packed/unpacked repeats, raw vs typed data, bad files. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reader } from '../interop/onnx/proto.ts';
import { decodeTensor } from '../interop/onnx/schema.ts';
import { hostTensorOf } from '../interop/onnx/host.ts';
import { loadOnnx } from '../interop/onnx/index.ts';
import { throwsTessera } from './helpers.ts';
import { encodeTensor, GraphBuilder, T, Writer } from './onnx-helpers.ts';

const tensorOf = (w: Writer) => hostTensorOf(decodeTensor(new Reader(w.finish())));

test('varints: small, multi-byte, 2^53 - 1, and negative int64 as 10 bytes', () => {
  const vals = [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1];
  const w = new Writer(); for (const v of vals) w.varint(v);
  const r = new Reader(w.finish());
  assert.equal(vals.map(() => r.varint()), vals);
  const neg = [-1, -2, -(2 ** 40), -(2 ** 53) + 1];
  const w2 = new Writer(); for (const v of neg) w2.varint(v);
  const b = w2.finish();
  assert.is(b.length, 40, 'each negative int64 takes 10 bytes');
  const r2 = new Reader(b);
  assert.equal(neg.map(() => r2.int64()), neg);
  const big = new Reader(new Writer().varint(2n ** 63n - 1n).varint(-(2n ** 63n)).finish());
  assert.is(big.int64(), 2 ** 63);
  assert.is(big.int64(), -(2 ** 63));
});

test('repeated scalars decode the same packed and unpacked', () => {
  for (const packed of [false, true]) {
    const t = tensorOf(encodeTensor({ type: T.INT64, dims: [2, 3], values: [1, -2, 3, -4, 5, 2 ** 40], raw: false }, 'x', { packed }));
    assert.equal([...t.dims], [2, 3], `dims packed=${packed}`);
    assert.equal(t.numbers(), [1, -2, 3, -4, 5, 2 ** 40]);
  }
  const w = new Writer().int(1, 3).int(2, T.FLOAT).floats(4, [1.5], false).floats(4, [2.5, -3], true);
  assert.equal(tensorOf(w).numbers(), [1.5, 2.5, -3], 'a field may mix packed and unpacked chunks');
});

test('raw_data and typed fields give the same values for every element type', () => {
  const cases: [number, number[]][] = [[T.FLOAT, [0.5, -1.25, 3e-8]], [T.INT64, [-(2 ** 33), 7, 0]], [T.INT32, [-5, 2 ** 30, 1]], [T.DOUBLE, [0.1,
    -2, 1e10]],
    [T.INT8, [-128, 5, 127]], [T.UINT8, [0, 200, 255]], [T.BOOL, [1, 0, 1]]];
  for (const [type, values] of cases) {
    const raw = tensorOf(encodeTensor({ type, dims: [3], values, raw: true }));
    const typed = tensorOf(encodeTensor({ type, dims: [3], values, raw: false }));
    const expect = type === T.FLOAT || type === T.DOUBLE ? values.map(Math.fround) : values;
    assert.equal(raw.numbers(), expect, `raw type ${type}`);
    assert.equal(typed.numbers(), expect, `typed type ${type}`);
  }
  const half = new Writer().int(1, 2).int(2, T.FLOAT16).raw(9, new Uint8Array(new Uint16Array([0x3c00, 0xc000]).buffer));
  assert.equal(tensorOf(half).numbers(), [1, -2], 'float16 raw_data');
});

test('unknown fields are skipped; scalars have no dims', () => {
  const w = new Writer().int(2, T.FLOAT).int(77, 5).str(78, 'ignored').f32(79, 1).raw(9, new Uint8Array(new Float32Array([4]).buffer));
  const t = tensorOf(w);
  assert.equal([...t.dims], []);
  assert.equal(t.numbers(), [4]);
});

const tiny = () => new GraphBuilder(13).input('x', T.FLOAT, [2]).node('Relu', ['x'], ['y']).output('y').encode();

test('bad files: empty, truncated, corrupted, not a model, wrong input type', async () => {
  await throwsTessera(() => loadOnnx(new Uint8Array()), 'loadOnnx', 'empty');
  const good = tiny();
  for (const cut of [3, 10, good.length - 3]) await throwsTessera(() => loadOnnx(good.subarray(0, cut)), 'loadOnnx');
  const bad = Uint8Array.from(good); bad[0] = 0xff; bad[1] = 0xff;
  await throwsTessera(() => loadOnnx(bad), 'loadOnnx');
  await throwsTessera(() => loadOnnx(new TextEncoder().encode('{"not": "onnx"}')), 'loadOnnx');
  await throwsTessera(() => loadOnnx(new Writer().int(1, 8).finish()), 'loadOnnx', 'no graph');
  await throwsTessera(() => loadOnnx(42 as unknown as Uint8Array), 'loadOnnx', 'Uint8Array');
  await throwsTessera(() => loadOnnx('/nonexistent/model.onnx'), 'loadOnnx', 'cannot read');
});

test('external data is rejected with a clear error', async () => {
  const ext = new Writer().ints(1, [2], false).int(2, T.FLOAT).str(8, 'w').msg(13, new Writer().str(1, 'location').str(2, 'w.bin')).int(14, 1);
  const g = new GraphBuilder(13).input('x', T.FLOAT, [2]).initProto(ext).node('Add', ['x', 'w'], ['y']).output('y');
  await throwsTessera(() => loadOnnx(g.encode()), 'loadOnnx', "tensor 'w'", 'external file', 'save_as_external_data=False');
});

test.run();
