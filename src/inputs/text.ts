/**
 * Text: tokenized (Unicode words, lowercased, or character n-grams within words), mapped
 * to ids through a vocabulary fitted on the train split (0 = padding, 1 = out of
 * vocabulary), cut or padded to `max_length`, and encoded by one of the text encoders
 * (bag, cnn, transformer). The vocabulary is part of the fitted state, so eval and
 * predict tokenize new text exactly as training did. A missing cell is a text of no tokens.
 */
import { readFileSync } from 'node:fs';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { InputConfig } from '../config/schema';
import { textEncoderRegistry, type TextEncoderName, type TextPooling } from './text-encoders';
import { DataError } from '../errors';
import type { InputType } from './types';

export type TextOptions = Omit<Extract<InputConfig, { type: 'text' }>, 'name' | 'type'>;

export interface TextState {
  tokenizer: 'words' | 'char_ngrams';
  ngram: number;
  lowercase: boolean;
  maxLength: number;
  /** Index = token id: '' (padding) and '<unk>' first. */
  vocab: string[];
  encoder: TextEncoderName;
  embeddingDim: number;
  layers: number;
  heads: number;
  dropout: number;
  kernelSize: number;
  /** Absent in checkpoints from before the option: the encoder's default. */
  pooling?: TextPooling;
  embeddings?: string;
}

export const PAD_ID = 0;
export const UNKNOWN_ID = 1;
export const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu;

export function tokenize(text: string, state: Pick<TextState, 'tokenizer' | 'ngram' | 'lowercase'>): string[] {
  const words = (state.lowercase ? text.toLowerCase() : text).match(WORD) ?? [];
  if (state.tokenizer === 'words') return words;
  const n = state.ngram;
  return words.flatMap((w) => {
    const padded = `<${w}>`;
    const chars = [...padded];
    if (chars.length <= n) return [padded];
    return Array.from({ length: chars.length - n + 1 }, (_, i) => chars.slice(i, i + n).join(''));
  });
}

export const textInput: InputType<TextOptions, TextState> = {
  packed: () => false,
  readsMissingAsEmpty: true,
  fit(cells, options, context) {
    const fitter = textInput.fitter!(options, context);
    for (const cell of cells) fitter.add(cell);
    return fitter.finish();
  },
  fitter(options) {
    const state = { tokenizer: options.tokenizer, ngram: options.ngram, lowercase: options.lowercase };
    const counts = new Map<string, number>();
    let n = 0;
    return {
      add(cell, count = 1) {
        n += count;
        for (const token of tokenize(cell, state)) counts.set(token, (counts.get(token) ?? 0) + count);
      },
      get count() {
        return n;
      },
      finish() {
        const kept = [...counts].filter(([, c]) => c >= options.min_count).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
        return {
          ...state,
          maxLength: options.max_length,
          vocab: ['', '<unk>', ...kept.slice(0, Math.max(0, options.max_vocab - 2)).map(([t]) => t)],
          encoder: options.encoder,
          embeddingDim: options.embedding_dim,
          layers: options.layers,
          heads: options.heads,
          dropout: options.dropout,
          kernelSize: options.kernel_size,
          pooling: options.pooling,
          embeddings: options.embeddings,
        };
      },
    };
  },
  shape: (state) => [state.maxLength],
  fill: () => '',
  encode(cell, state, out, context) {
    const index = vocabIndex(state);
    const tokens = tokenize(cell, state);
    if (tokens.length > state.maxLength) context.tally?.(`texts longer than max_length ${state.maxLength} tokens were cut to it`);
    const n = Math.min(tokens.length, state.maxLength);
    for (let i = 0; i < n; i++) out[i] = index.get(tokens[i]) ?? UNKNOWN_ID;
    out.fill(PAD_ID, n);
  },
  encoder(input, spec, { rng }) {
    const s = spec.state;
    return textEncoderRegistry[s.encoder](input as SymbolicTensor, {
      prefix: `${spec.name}_`,
      vocabSize: s.vocab.length,
      maxLength: s.maxLength,
      embeddingDim: s.embeddingDim,
      layers: s.layers,
      heads: s.heads,
      dropout: s.dropout,
      kernelSize: s.kernelSize,
      pooling: s.pooling,
      initialEmbeddings: s.embeddings ? pretrainedRows(s.embeddings, s, rng.seed()) : undefined,
      rng,
    });
  },
};

const indexCache = new WeakMap<string[], Map<string, number>>();
export function vocabIndex(state: TextState): Map<string, number> {
  let index = indexCache.get(state.vocab);
  if (!index) {
    index = new Map(state.vocab.map((t, i) => [t, i]));
    indexCache.set(state.vocab, index);
  }
  return index;
}

/**
 * Embedding rows from a GloVe / word2vec text file (`token v1 v2 ...` per line; a
 * word2vec `count dim` header is skipped): vocabulary tokens found get their vector,
 * the others small seeded random values.
 */
export function pretrainedRows(file: string, state: TextState, seed: number): Float32Array {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new DataError(`the embeddings file ${file} cannot be read`, 'check the path in embeddings: (relative to the config file)');
  }
  const dim = state.embeddingDim;
  const rows = new Float32Array(state.vocab.length * dim);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < rows.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    rows[i] = (s / 4294967296 - 0.5) * 0.1;
  }
  const index = vocabIndex(state);
  let found = 0;
  text.split('\n').forEach((line, n) => {
    const parts = line.trim().split(/\s+/);
    if (parts.length < 2 || (n === 0 && parts.length === 2)) return;
    if (parts.length - 1 !== dim) throw new DataError(`${file}:${n + 1}: a vector of ${parts.length - 1} values, but embedding_dim is ${dim}`, `set embedding_dim: ${parts.length - 1}`);
    const id = index.get(state.lowercase ? parts[0].toLowerCase() : parts[0]);
    if (id === undefined || id < 2) return;
    for (let j = 0; j < dim; j++) rows[id * dim + j] = Number(parts[j + 1]);
    found++;
  });
  if (found === 0) throw new DataError(`the embeddings file ${file} holds none of the ${state.vocab.length - 2} vocabulary tokens`, 'check the file and the tokenizer settings');
  return rows;
}
