import { nn, randn } from '../index.ts';
const q = randn([2, 8, 4], { seed: 1 }), k = randn([2, 8, 4], { seed: 2 }), v = randn([2, 8, 4], { seed: 3 });
const o = nn.scaledDotProductAttention(q, k, v, { causal: true });
console.log((await o.data()).slice(0, 4));
