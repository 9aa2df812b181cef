import * as tf from '@tensorflow/tfjs-core';
import type { Weighting, WeightingFactory } from './types';

/** Σ w_t · L_t with constant weights; applied to `weights`, it serves DWA and GradNorm too. */
export function weightedSum(losses: tf.Scalar[], weights: number[]): tf.Scalar {
  return tf.addN(losses.map((l, i) => (weights[i] === 1 ? l : tf.mul(l, weights[i])))) as tf.Scalar;
}

/**
 * A weighting whose objective is Σ w_t L_t with weights it keeps itself (fixed, DWA,
 * GradNorm): `weights` is read at every step; the rest defaults to doing nothing.
 */
export function weightedSumMethod(weights: () => number[], parts: Partial<Omit<Weighting, 'objective' | 'weights'>> = {}): Weighting {
  return {
    variables: [],
    needsRepresentationGrads: false,
    objective: (losses) => weightedSum(losses, weights()),
    weights,
    afterStep: () => undefined,
    afterEpoch: () => undefined,
    getState: () => ({}),
    setState: () => undefined,
    dispose: () => undefined,
    ...parts,
  };
}

/** L = Σ w_t L_t with each task's configured `weight`. */
export const fixedWeighting: WeightingFactory<{ type: 'fixed' }> = (_config, tasks) => {
  const weights = tasks.map((t) => t.weight);
  return weightedSumMethod(() => weights);
};
