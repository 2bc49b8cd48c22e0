/**
 * Parsing and a seeded train/test split of the examples' CSV data, without Node APIs (the
 * browser demo, demo/web, uses them as well as examples/data.ts).
 */
export interface Dataset { x: Float32Array; y: Float32Array; samples: number; features: number; classNames?: string[] }

export function parseRows(text: string): number[][] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => l.split(',').map(Number));
}
export function fromRows(rows: number[][], features: number): Dataset {
  const x = new Float32Array(rows.length * features), y = new Float32Array(rows.length);
  rows.forEach((r, i) => {
    if (r.length !== features + 1 || r.some((v) => !Number.isFinite(v))) throw new Error(`data row ${i} is malformed`);
    x.set(r.slice(0, features), i * features);
    y[i] = r[features]!;
  });
  return { x, y, samples: rows.length, features };
}

/** mulberry32: a tiny seeded generator, so splits are the same every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function take(d: Dataset, idx: ArrayLike<number>): Dataset {
  const x = new Float32Array(idx.length * d.features), y = new Float32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    x.set(d.x.subarray(idx[i]! * d.features, (idx[i]! + 1) * d.features), i * d.features);
    y[i] = d.y[idx[i]!]!;
  }
  return { ...d, x, y, samples: idx.length };
}

/** A shuffled split: `testFraction` of the samples held out. */
export function trainTestSplit(d: Dataset, testFraction = 0.2, seed = 42): { train: Dataset; test: Dataset } {
  const next = rng(seed), idx = Array.from({ length: d.samples }, (_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) { const j = Math.floor(next() * (i + 1)); [idx[i], idx[j]] = [idx[j]!, idx[i]!]; }
  const nTest = Math.round(d.samples * testFraction);
  return { train: take(d, idx.slice(nTest)), test: take(d, idx.slice(0, nTest)) };
}

