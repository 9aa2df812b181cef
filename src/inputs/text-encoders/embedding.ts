import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { TextEncoderContext } from './types';

/** The token embedding every text encoder starts from (pretrained rows when given). */
export function tokenEmbedding(ids: SymbolicTensor, c: TextEncoderContext): SymbolicTensor {
  return tfl.layers
    .embedding({
      inputDim: c.vocabSize,
      outputDim: c.embeddingDim,
      embeddingsInitializer: tfl.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: c.rng.seed() }),
      weights: c.initialEmbeddings ? [tf.tensor2d(c.initialEmbeddings, [c.vocabSize, c.embeddingDim])] : undefined,
      name: `${c.prefix}embedding`,
    })
    .apply(ids) as SymbolicTensor;
}

export function dropout(x: SymbolicTensor, c: TextEncoderContext, name: string): SymbolicTensor {
  return c.dropout > 0 ? (tfl.layers.dropout({ rate: c.dropout, name: `${c.prefix}${name}` }).apply(x) as SymbolicTensor) : x;
}
