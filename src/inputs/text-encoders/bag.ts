/** A bag of embeddings: the mean of the text's token embeddings, padding left out. */
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { MaskedPooling } from '../../models/layers/text';
import { dropout, tokenEmbedding } from './embedding';
import type { TextEncoder } from './types';

export const bagEncoder: TextEncoder = (ids, c) => {
  const embedded = dropout(tokenEmbedding(ids, c), c, 'embedding_dropout');
  return new MaskedPooling({ mode: 'mean', name: `${c.prefix}mean` }).apply([embedded, ids]) as SymbolicTensor;
};
