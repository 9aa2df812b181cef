/**
 * Random loss weighting (Lin et al. 2022, "Reasonable Effectiveness of Random Weighting:
 * A Litmus Test for Multi-Task Learning"), as LibMTL `RLW` with its default normal
 * distribution: each step w = softmax(z), z_t ~ N(0, 1) drawn from the step's rng in
 * task order; d = Σ w_t g_t.
 */
import { combine, sum } from './linalg';
import { checkGradientSet, type GradientMethodFactory } from './types';

export type RlwOptions = Record<string, never>;

export const rlwDefaults: Readonly<RlwOptions> = {};

export const createRlw: GradientMethodFactory<Partial<RlwOptions>> = (_options, taskCount) => {
  if (!Number.isInteger(taskCount) || taskCount < 1) throw new RangeError('rlw: taskCount must be a positive integer');
  return {
    name: 'rlw',
    // No Gram matrix needed: the weights ignore the gradients.
    aggregate(set, { rng }) {
      checkGradientSet(set, taskCount, 'rlw');
      const z = set.grads.map(() => rng.normal());
      const top = Math.max(...z);
      const exps = z.map((v) => Math.exp(v - top));
      const total = sum(exps);
      const weights = exps.map((e) => e / total);
      return { direction: combine(set.grads, weights), weights };
    },
    getState: () => ({}),
    setState: () => {},
  };
};
