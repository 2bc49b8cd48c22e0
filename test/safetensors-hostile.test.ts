/**
 * Hostile safetensors files: header-length bombs, non-JSON and non-object headers, unknown dtypes,
 * bad shapes, offsets out of range or overlapping, truncated data, out-of-range I64. Each is a
 * TesseraError naming the problem; then a mutation fuzzer over real files (a model's saveWeights,
 * and a file with every dtype) checks that no mutation crashes with another error or yields tensors
 * whose data does not match their shape.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ts from '../index.ts';
import { nn } from '../index.ts';
import { prng } from '../ops/creation.ts';
import { decodeSafetensors, encodeSafetensors } from '../ops/nn/safetensors.ts';
import { byteMutation, mutationFuzz, protobufMutation } from './fuzz/mutate-helpers.ts';
import { throwsTessera } from './helpers.ts';

const enc = new TextEncoder();
/** A file with the given header text (padded or not) and body. */
function file(header: string, body: Uint8Array = new Uint8Array(0), lengthField?: bigint): Uint8Array {
  const h = enc.encode(header), out = new Uint8Array(8 + h.length + body.length);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(h.length), true);
  out.set(h, 8); out.set(body, 8 + h.length);
  return out;
}
const entry = (dtype: string, shape: unknown, offs: unknown) => ({ dtype, shape, data_offsets: offs });
const json = (o: unknown, body = 8) => file(JSON.stringify(o), new Uint8Array(body));
const decode = (b: Uint8Array) => () => decodeSafetensors(b);

test('header length bombs and truncated files', async () => {
  await throwsTessera(decode(new Uint8Array(5)), 'loadWeights', 'shorter than the 8-byte header length');
  await throwsTessera(decode(file('{}', new Uint8Array(0), 2n ** 63n)), 'header length 9223372036854775808 exceeds the file size');
  await throwsTessera(decode(file('{}', new Uint8Array(0), 0xffffffffffffffffn)), 'exceeds the file size',
    'Fix: pass bytes or a file written by saveWeights');
  const good = encodeSafetensors({ w: { dtype: 'float32', shape: [4], data: Float32Array.of(1, 2, 3, 4) } });
  await throwsTessera(decode(good.subarray(0, good.length - 3)), "tensor 'w'", 'do not fit its size or the 13-byte data');
  await throwsTessera(decode(good.subarray(0, 20)), 'exceeds the file size');
});

test('headers that are not UTF-8 JSON objects', async () => {
  await throwsTessera(decode(file('{"w": {"dtype": "F32", ')), 'the header is not JSON');
  await throwsTessera(decode(file('\xff\xfe', new Uint8Array(0), 2n).map((v, i) => (i >= 8 ? 0xff : v))), 'not UTF-8');
  for (const [h, what] of [['null', 'null'], ['[1, 2]', 'array'], ['"x"', 'string'], ['42', 'number']])
    await throwsTessera(decode(file(h)), `the header is JSON ${what}, not an object`);
  await throwsTessera(decode(json({ w: 5 })), "the entry of tensor 'w' is not an object");
  await throwsTessera(decode(json({ __metadata__: { a: 1 } })), '__metadata__ must map names to strings');
});

test('unknown dtypes, bad shapes and bad offsets', async () => {
  await throwsTessera(decode(json({ w: entry('F128', [2], [0, 8]) })), "unsupported dtype \"F128\"", 'supported: F32');
  await throwsTessera(decode(json({ w: entry('constructor', [2], [0, 8]) })), 'unsupported dtype "constructor"');
  await throwsTessera(decode(json({ w: { shape: [2], data_offsets: [0, 8] } })), 'unsupported dtype undefined');
  for (const shape of [[-1], [1.5], 'x', null, [2 ** 60], [1e300]])
    await throwsTessera(decode(json({ w: entry('F32', shape, [0, 8]) })), /invalid shape|do not fit/);
  for (const offs of [5, [0], [0, 8, 9], ['0', '8'], [0.5, 8], null])
    await throwsTessera(decode(json({ w: entry('F32', [2], offs) })), 'invalid data_offsets');
  await throwsTessera(decode(json({ w: entry('F32', [2], [-8, 0]) })), 'data offsets [-8, 0]');
  await throwsTessera(decode(json({ w: entry('F32', [2], [8, 0]) })), 'data offsets [8, 0]');
  await throwsTessera(decode(json({ w: entry('F32', [2], [4, 12]) })), 'do not fit its size or the 8-byte data');
  await throwsTessera(decode(json({ w: entry('F32', [3], [0, 8]) })), '12 bytes');
});

test('overlapping tensors are rejected before any data is decoded (no memory amplification)', async () => {
  await throwsTessera(decode(json({ a: entry('F32', [2], [0, 8]), b: entry('F32', [1], [4, 8]) })), "the data of tensors 'a' and 'b' overlap");
  await throwsTessera(decode(json({ a: entry('F32', [4], [0, 16]), e: entry('F32', [0], [0, 0]), b: entry('F32', [1], [8, 12]) }, 16)), 'overlap');
  // A bomb: many entries all pointing at the same large span would decode the body many times over.
  const many = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`t${i}`, entry('F32', [1024], [0, 4096])]));
  await throwsTessera(decode(json(many, 4096)), 'overlap');
  const ok = decodeSafetensors(json({ a: entry('F32', [1], [0, 4]), e: entry('F32', [0], [4, 4]), b: entry('F32', [1], [4, 8]) }));
  assert.equal(Object.keys(ok.tensors).sort(), ['a', 'b', 'e']);
});

test('I64 outside int32 is an error, not a silent wrap; __proto__ names stay data', async () => {
  const body = new Uint8Array(16);
  new DataView(body.buffer).setBigInt64(0, 2n ** 40n, true);
  await throwsTessera(decode(file(JSON.stringify({ w: entry('I64', [2], [0, 16]) }), body)), "tensor 'w' (I64) holds values outside int32");
  new DataView(body.buffer).setBigInt64(0, -5n, true);
  assert.equal(Array.from(decodeSafetensors(file(JSON.stringify({ w: entry('I64', [2], [0, 16]) }), body)).tensors.w!.data), [-5, 0]);
  const p = decodeSafetensors(file('{"__proto__": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', new Uint8Array(4)));
  assert.ok(Object.hasOwn(p.tensors, '__proto__'), 'a tensor named __proto__ is an own entry');
  assert.is(Object.getPrototypeOf(p.tensors), Object.prototype);
});

/** Real files: a small model's weights (as saveWeights writes them) and a file with every dtype. */
async function realFiles(): Promise<Uint8Array[]> {
  const m = new nn.Sequential([new nn.Dense(4, { inputShape: [3], activation: 'relu' }), new nn.LayerNormalization(), new nn.Dense(2)]);
  const f16 = (await ts.getDevice()).caps.f16;
  const all = encodeSafetensors({
    f: { dtype: 'float32', shape: [2, 3], data: Float32Array.of(1, -2, 3.5, 0, 1e-3, 7) },
    i: { dtype: 'int32', shape: [3], data: Int32Array.of(-1, 0, 5) },
    u: { dtype: 'uint32', shape: [2], data: Uint32Array.of(0, 4000000000) },
    b: { dtype: 'bool', shape: [3], data: Uint8Array.of(1, 0, 1) },
    ...(f16 ? { h: { dtype: 'float16' as const, shape: [2], data: Float32Array.of(0.5, -2) } } : {}),
    empty: { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) },
  }, { note: 'every dtype' });
  return [await m.saveWeights(), all];
}

/** One random mutation: generic byte mutations, a changed length field, or a structural change of the JSON header. */
function mutate(src: Uint8Array, r: () => number): Uint8Array {
  const ri = (n: number) => Math.floor(r() * n), b = src.slice();
  const hlen = Number(new DataView(src.buffer, src.byteOffset, 8).getBigUint64(0, true));
  switch (ri(5)) {
    case 0: return byteMutation(src, r);
    case 1: new DataView(b.buffer).setBigUint64(0, BigInt(Math.max(0, hlen + ri(17) - 8)) * (r() < 0.1 ? 2n ** 40n : 1n), true); return b;
    case 2: for (let k = 1 + ri(3); k > 0; k--) b[8 + ri(hlen)] = ri(2) ? ri(128) : '"{}[],:0-9e'.charCodeAt(ri(11)); return b;
    default: {
      const h = JSON.parse(new TextDecoder().decode(src.subarray(8, 8 + hlen))) as Record<string, Record<string, unknown>>;
      const names = Object.keys(h).filter((k) => k !== '__metadata__'), name = names[ri(names.length)]!, e = h[name]!;
      const junk = [null, -1, 1.5, 'F32', 'X', [], [0], [2 ** 53], {}, [1, 2, 3], 1e9, true][ri(12)];
      const field = ['dtype', 'shape', 'data_offsets'][ri(3)]!;
      if (r() < 0.5) e[field] = junk;
      else if (field === 'data_offsets') { const o = e.data_offsets as number[]; e.data_offsets = [o[0]! + ri(9) - 4, o[1]! + ri(9) - 4]; }
      else if (field === 'shape') { const s = e.shape as number[]; e.shape = s.length && r() < 0.5 ? s.map((d) => d + ri(3) - 1) : [...s,
        1 + ri(3)]; }
      else e.dtype = ['F32', 'F16', 'BF16', 'F64', 'I64', 'I8', 'U8', 'BOOL', 'I16'][ri(9)];
      if (r() < 0.2) h[`${name}_copy`] = { ...e };
      return file(JSON.stringify(h), src.subarray(8 + hlen));
    }
  }
}

test('mutation fuzzer: 3000 mutations of real files decode validly or fail with a TesseraError', async () => {
  const { accepted, rejected } = await mutationFuzz({
    files: await realFiles(), parse: (b) => decodeSafetensors(b), mutate: (b, r) => (r() < 0.15 ? protobufMutation(b, r) : mutate(b, r)), n: 3000,
      r: prng(77),
    check: ({ tensors }, i) => {
      for (const [k, t] of Object.entries(tensors)) assert.is(t.data.length, t.shape.reduce((a, d) => a * d, 1),
        `mutation ${i}: tensor ${k} data matches its shape`);
    },
  });
  assert.ok(rejected > 1000 && accepted > 50, `rejected ${rejected}, accepted ${accepted}`);
  // Loading a mutated file into a model is all-or-nothing: a rejected file leaves the weights as they were.
  const m = new nn.Sequential([new nn.Dense(2, { inputShape: [3] })]);
  const before = Array.from(await m.getWeights()[0]!.data());
  const saved = await m.saveWeights();
  await throwsTessera(() => m.loadWeights(saved.subarray(0, saved.length - 1)), 'loadWeights');
  assert.equal(Array.from(await m.getWeights()[0]!.data()), before);
});

test.run();
