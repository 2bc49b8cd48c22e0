import { nn, randn } from '../index.ts';
import { runPasses } from '../ir/passes/index.ts';
import { schedule } from '../ir/schedule/index.ts';
for (const [T, D] of [[128, 64], [64, 16], [32, 64]]) {
const q = randn([1, T, 4], { seed: 1 }), k = randn([1, T, 4], { seed: 2 }), v = randn([1, T, D], { seed: 3 });
const o = nn.scaledDotProductAttention(q, k, v, {});
console.log(T, D, schedule(runPasses([o.node]), { fuse: true, maxBuffers: 8, log: console.log }).map((k) => k.kind === 'row' ? k.stages.length : k.kind));
}
