/**
 * A category: one-hot over the train split's sorted categories (the default), or an
 * index into a learned embedding (`encoder: embedding`, `dim`) whose row 0 stands for
 * a category never seen in training.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { CellError, type InputType } from './types';

export interface CategoryOptions {
  encoder: 'one_hot' | 'embedding';
  /** Embedding width. */
  dim: number;
}

export interface CategoryState {
  categories: string[];
  /** The most common train category: the fill for missing cells. */
  mode: string;
  encoder: 'one_hot' | 'embedding';
  dim: number;
}

function fitCounts(counts: Map<string, number>, options: CategoryOptions): CategoryState {
  const categories = [...counts.keys()].sort();
  const mode = categories.reduce((best, c) => (counts.get(c)! > counts.get(best)! ? c : best), categories[0]);
  return { categories, mode, encoder: options.encoder, dim: options.dim };
}

export const categoryInput: InputType<CategoryOptions, CategoryState> = {
  fit(cells, options) {
    const counts = new Map<string, number>();
    for (const c of cells) counts.set(c, (counts.get(c) ?? 0) + 1);
    return fitCounts(counts, options);
  },
  fitter(options) {
    const counts = new Map<string, number>();
    let n = 0;
    return {
      add(cell, count = 1) {
        counts.set(cell, (counts.get(cell) ?? 0) + count);
        n += count;
      },
      get count() {
        return n;
      },
      finish: () => fitCounts(counts, options),
    };
  },
  packed: (state) => state.encoder !== 'embedding',
  shape: (state) => (state.encoder === 'embedding' ? [1] : [state.categories.length]),
  fill: (state) => state.mode,
  encode(cell, state, out, context) {
    const k = state.categories.indexOf(cell);
    if (k < 0) {
      if (context.strictCategories) throw new CellError(`holds "${cell}", a category never seen in training`, `known categories: ${state.categories.join(', ')}`);
      context.unseen.count++;
      // One-hot: all zeros; embedding: the unknown row.
      if (state.encoder === 'embedding') out[0] = 0;
      return;
    }
    if (state.encoder === 'embedding') out[0] = k + 1;
    else out[k] = 1;
  },
  encoder(input, spec, { rng }) {
    if (spec.state.encoder !== 'embedding') return input;
    const embedded = tfl.layers
      .embedding({ inputDim: spec.state.categories.length + 1, outputDim: spec.state.dim, embeddingsInitializer: tfl.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: rng.seed() }), name: `${spec.name}_embedding` })
      .apply(input) as SymbolicTensor;
    return tfl.layers.flatten({ name: `${spec.name}_embedding_flatten` }).apply(embedded) as SymbolicTensor;
  },
};
