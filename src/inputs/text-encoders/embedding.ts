import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { MaskedPooling } from '../../models/layers/text';
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

/** Token vectors (batch x time x dim) -> one per text, by `c.pooling` or the encoder's default; padding left out. */
export function pool(h: SymbolicTensor, ids: SymbolicTensor, c: TextEncoderContext, encoderDefault: 'mean' | 'max'): SymbolicTensor {
  const pooling = c.pooling ?? encoderDefault;
  const by = (mode: 'mean' | 'max') => new MaskedPooling({ mode, name: `${c.prefix}${mode}` }).apply([h, ids]) as SymbolicTensor;
  if (pooling !== 'mean_max') return by(pooling);
  return tfl.layers.concatenate({ name: `${c.prefix}mean_max` }).apply([by('mean'), by('max')]) as SymbolicTensor;
}
