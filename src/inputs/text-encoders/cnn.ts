/** 1-D convolutions over the token embeddings (`layers` of them, `kernel_size` wide), max over time. */
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { conv1d } from '../../models/layers/conv1d';
import { dropout, pool, tokenEmbedding } from './embedding';
import type { TextEncoder } from './types';

export const cnnEncoder: TextEncoder = (ids, c) => {
  let h = dropout(tokenEmbedding(ids, c), c, 'embedding_dropout');
  for (let l = 1; l <= c.layers; l++) {
    h = conv1d({
      filters: c.embeddingDim,
      kernelSize: c.kernelSize,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: tfl.initializers.heNormal({ seed: c.rng.seed() }),
      name: `${c.prefix}conv_${l}`,
    }).apply(h) as SymbolicTensor;
  }
  return pool(h, ids, c, 'max');
};
