/** Seeded random compositions of views, elementwise ops, reductions and matmuls, against the interpreter. */
import { test } from 'uvu';
import type { Tensor } from '../index.ts';
import { prng } from '../ops/creation.ts';
import { checkAgainstInterpreter, rnd, rndInt } from './helpers.ts';

/** Builds a random graph from seed `seed`; returns it and a description for failure messages. */
function randomGraph(seed: number, int: boolean): { t: Tensor; desc: string } {
  const r = prng(seed);
  const ri = (n: number) => Math.floor(r() * n);
  const src = (shape: number[], s: number) => (int ? rndInt(shape, { seed: s, lo: -3, hi: 3 }) : rnd(shape, { seed: s }));
  const shape = Array.from({ length: 1 + ri(4) }, () => 1 + ri(5));
  let t = src(shape, seed * 10);
  const desc = [`${int ? 'int' : 'float'}[${shape}]`];
  for (let step = 0; step < 8 && t.size <= 5000; step++) {
    const s = t.shape as number[];
    const k = ri(10);
    if (k === 0 && s.length > 1) { const p = [...s.keys()].sort(() => r() - 0.5); t = t.permute(p); desc.push(`permute(${p})`); }
    else if (k === 1) { const n = t.size, f = [1, 2, 3, 4, 6].filter((d) => n % d === 0), d = f[ri(f.length)]!; t = t.reshape([d, -1]); desc.push(`reshape(${d},-1)`); }
    else if (k === 2) { const b = s.map((d) => ri(d)), st = s.map(() => 1 + ri(2)); t = t.slice(b, undefined, st); desc.push(`slice(${b};${st})`); }
    else if (k === 3) { const p = s.map(() => [ri(2), ri(2)] as [number, number]), v = ri(2) ? 0 : 2; t = t.pad(p, v); desc.push(`pad(${JSON.stringify(p)},${v})`); }
    else if (k === 4) { t = t.mul(src(s.slice(1), seed * 10 + step + 1).T.T); desc.push('mul broadcast'); }
    else if (k === 5) { t = int ? t.add(1).abs() : t.exp().mul(0.5); desc.push(int ? 'abs(+1)' : 'exp*0.5'); }
    else if (k === 6 && t.size > 0) { const ax = ri(s.length); t = t.sum(ax, ri(2) === 1); desc.push(`sum(${ax})`); }
    else if (k === 7 && t.size > 0) { const ax = ri(s.length); t = t.sub(t.max(ax, true)); desc.push(`sub max(${ax})`); }
    else if (k === 8 && s.length >= 2) { t = t.matmul(src([s[s.length - 1]!, 3], seed * 7 + step)); desc.push('matmul'); }
    else if (k === 9) { t = t.unsqueeze(0).expand([2, ...s]); desc.push('expand'); }
  }
  return { t, desc: desc.join(' > ') };
}

for (const int of [false, true]) {
  test(`15 random ${int ? 'int32' : 'float32'} view/elementwise/reduce/matmul compositions`, async () => {
    for (let i = 0; i < 15; i++) {
      const { t, desc } = randomGraph(1000 * (int ? 2 : 1) + i, int);
      await checkAgainstInterpreter(t, { rtol: 1e-4, atol: 1e-4, msg: `case ${i}: ${desc}` });
    }
  });
}

test.run();
