import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { Rng } from '../../data/rng';
import type { textPoolingNames } from '../../config/schema';

export type TextPooling = (typeof textPoolingNames)[number];

/** What a text encoder builds on: token ids (batch x max_length, 0 = padding) and its settings. */
export interface TextEncoderContext {
  /** Prefix of every layer name (the input's name). */
  prefix: string;
  vocabSize: number;
  maxLength: number;
  embeddingDim: number;
  layers: number;
  heads: number;
  dropout: number;
  kernelSize: number;
  /** Unset: the encoder's own default. */
  pooling?: TextPooling;
  /** Initial embedding rows (vocabSize x embeddingDim), from pretrained vectors. */
  initialEmbeddings?: Float32Array;
  rng: Rng;
}

/** Token ids -> one vector per text (batch x embedding_dim). */
export type TextEncoder = (ids: SymbolicTensor, context: TextEncoderContext) => SymbolicTensor;
