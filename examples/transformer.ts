/**
 * Transformer building blocks for the examples and benchmarks, as functional-API graphs of
 * ordinary layers: a pre-norm block (x + MHA(LN(x)), then x + FFN(LN(x))) and a small GPT
 * (token embedding + learned positions, blocks, final norm, a projection to the vocabulary), with
 * optional dropout on the embeddings and on each residual branch (GPT-2's places).
 */
import { nn } from '../index.ts';

export interface BlockOptions { heads: number; ffn: number; causal: boolean; dropout?: number }

/** A pre-norm transformer block over [batch, tokens, dModel]. */
export function transformerBlock(x: nn.SymbolicTensor, o: BlockOptions): nn.SymbolicTensor {
  const d = x.shape[1]!;
  const drop = (t: nn.SymbolicTensor) => (o.dropout ? new nn.Dropout(o.dropout).call(t) : t);
  const att = new nn.MultiHeadAttention(o.heads, d / o.heads, { causal: o.causal }).call(new nn.LayerNormalization(1e-5).call(x));
  const h = new nn.Add().call([x, drop(att)]);
  const ff = new nn.Dense(d).call(new nn.Dense(o.ffn, { activation: 'gelu' }).call(new nn.LayerNormalization(1e-5).call(h)));
  return new nn.Add().call([h, drop(ff)]);
}

export interface GptOptions { vocab: number; context: number; dModel: number; blocks: number; heads: number; ffn: number; dropout?: number }

/** A character GPT: ids [batch, context] -> next-token logits [batch, context, vocab]. */
export function gpt(o: GptOptions): nn.FunctionalModel {
  const ids = nn.input({ shape: [o.context], name: 'ids' });
  let x = new nn.PositionalEmbedding(o.context).call(new nn.Embedding(o.vocab, o.dModel).call(ids));
  if (o.dropout) x = new nn.Dropout(o.dropout).call(x);
  for (let b = 0; b < o.blocks; b++) x = transformerBlock(x, { heads: o.heads, ffn: o.ffn, causal: true, dropout: o.dropout });
  const logits = new nn.Dense(o.vocab, { name: 'logits' }).call(new nn.LayerNormalization(1e-5).call(x));
  return nn.model({ inputs: ids, outputs: logits, name: 'gpt' });
}
