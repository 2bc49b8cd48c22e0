import { nn, randn, compilerOptions } from '../index.ts';
import { runPasses } from '../ir/passes/index.ts';
import { schedule } from '../ir/schedule/index.ts';
const sh = [4, 4, 128, 64];
const q = randn(sh, { seed: 1 }), k = randn(sh, { seed: 2 }), v = randn(sh, { seed: 3 });
const o = nn.scaledDotProductAttention(q, k, v, { causal: true });
console.log(schedule(runPasses([o.node]), { fuse: true, maxBuffers: 8, log: console.log }).map((k) => k.kind));
