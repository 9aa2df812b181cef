/** A bag of embeddings: the mean of the text's token embeddings, padding left out. */
import { dropout, pool, tokenEmbedding } from './embedding';
import type { TextEncoder } from './types';

export const bagEncoder: TextEncoder = (ids, c) => {
  const embedded = dropout(tokenEmbedding(ids, c), c, 'embedding_dropout');
  return pool(embedded, ids, c, 'mean');
};
