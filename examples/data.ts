/**
 * Data loading for the examples: the CSV files in examples/data/ (breast cancer: a header line
 * `569,30,malignant,benign` then 30 features and a 0/1 label per row; digits: gzip CSV without a
 * header, 64 pixel values 0..16 then a label 0..9), a seeded train/test split and feature
 * standardization. Everything stays in Float32Arrays until the model takes it. The parsing and
 * the split are in data-split.ts (no Node APIs: the browser demo uses them too).
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { tensor, type Tensor } from '../index.ts';

import { fromRows, parseRows, trainTestSplit, type Dataset } from './data-split.ts';

export { trainTestSplit, type Dataset } from './data-split.ts';

/** 569 tumours, 30 features, label 0 = malignant, 1 = benign. */
export async function loadBreastCancer(): Promise<Dataset> {
  const text = await readFile(new URL('./data/breast_cancer.csv', import.meta.url), 'utf8');
  const [header, ...rest] = text.split('\n');
  const [n, f, ...classNames] = header!.trim().split(',');
  const d = fromRows(parseRows(rest.join('\n')), Number(f));
  if (d.samples !== Number(n)) throw new Error(`breast_cancer.csv: header says ${n} rows, found ${d.samples}`);
  return { ...d, classNames };
}

/** 1797 8x8 digit images (pixels 0..16), labels 0..9. */
export async function loadDigits(): Promise<Dataset> {
  const text = gunzipSync(await readFile(new URL('./data/digits.csv.gz', import.meta.url))).toString('utf8');
  return fromRows(parseRows(text), 64);
}

/** Standardizes every feature with the training set's mean and standard deviation (in place). */
export function standardize(train: Dataset, ...others: Dataset[]): void {
  const f = train.features, mean = new Float64Array(f), sq = new Float64Array(f);
  for (let i = 0; i < train.samples; i++) for (let j = 0; j < f; j++) { const v = train.x[i * f + j]!; mean[j]! += v; sq[j]! += v * v; }
  for (let j = 0; j < f; j++) { mean[j]! /= train.samples; sq[j] = Math.sqrt(Math.max(sq[j]! / train.samples - mean[j]! ** 2, 0)) || 1; }
  for (const d of [train, ...others]) for (let i = 0; i < d.samples; i++) for (let j = 0; j < f; j++) d.x[i * f + j] = (d.x[i * f + j]! - mean[j]!) / sq[j]!;
}

/** The features as a [samples, features] tensor and the labels as [samples, 1] (or [samples] with `flatLabels`). */
export function tensors(d: Dataset, flatLabels = false): { x: Tensor; y: Tensor } {
  return {
    x: tensor(d.x, { shape: [d.samples, d.features] }),
    y: tensor(d.y, { shape: flatLabels ? [d.samples] : [d.samples, 1] }),
  };
}

/** The digits set with pixels scaled to [0, 1], split 80/20 (seeded), as datasets and tensors. */
export async function digitsSplit(): Promise<{ train: Dataset; test: Dataset; tr: { x: Tensor; y: Tensor }; te: { x: Tensor; y: Tensor } }> {
  const data = await loadDigits();
  for (let i = 0; i < data.x.length; i++) data.x[i]! /= 16;
  const { train, test } = trainTestSplit(data, 0.2, 42);
  return { train, test, tr: tensors(train, true), te: tensors(test, true) };
}
