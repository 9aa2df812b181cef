/**
 * A transformer encoder: token and position embeddings, `layers` blocks of multi-head
 * self-attention and an MLP (each residual, then layer norm), masked mean pooling.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { LayerNorm, MultiHeadSelfAttention, PositionEmbedding } from '../../models/layers/text';
import { dropout, pool, tokenEmbedding } from './embedding';
import type { TextEncoder } from './types';

export const transformerEncoder: TextEncoder = (ids, c) => {
  const dense = (x: SymbolicTensor, units: number, activation: 'relu' | 'linear', name: string) =>
    tfl.layers.dense({ units, activation, kernelInitializer: tfl.initializers.glorotUniform({ seed: c.rng.seed() }), name: `${c.prefix}${name}` }).apply(x) as SymbolicTensor;
  const add = (a: SymbolicTensor, b: SymbolicTensor, name: string) => tfl.layers.add({ name: `${c.prefix}${name}` }).apply([a, b]) as SymbolicTensor;
  const norm = (x: SymbolicTensor, name: string) => new LayerNorm({ name: `${c.prefix}${name}` }).apply(x) as SymbolicTensor;
  let h = new PositionEmbedding({ maxLength: c.maxLength, dim: c.embeddingDim, seed: c.rng.seed(), name: `${c.prefix}positions` }).apply(tokenEmbedding(ids, c)) as SymbolicTensor;
  h = dropout(h, c, 'embedding_dropout');
  for (let l = 1; l <= c.layers; l++) {
    const attended = new MultiHeadSelfAttention({ dim: c.embeddingDim, heads: c.heads, seed: c.rng.seed(), name: `${c.prefix}attention_${l}` }).apply([h, ids]) as SymbolicTensor;
    h = norm(add(h, dropout(attended, c, `attention_${l}_dropout`), `attention_${l}_residual`), `attention_${l}_norm`);
    const mlp = dense(dense(h, 2 * c.embeddingDim, 'relu', `mlp_${l}_in`), c.embeddingDim, 'linear', `mlp_${l}_out`);
    h = norm(add(h, dropout(mlp, c, `mlp_${l}_dropout`), `mlp_${l}_residual`), `mlp_${l}_norm`);
  }
  return pool(h, ids, c, 'mean');
};
