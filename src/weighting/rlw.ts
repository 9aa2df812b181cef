/**
 * Random loss weighting (Lin et al. 2022, "Reasonable Effectiveness of Random Weighting:
 * A Litmus Test for Multi-Task Learning"), as LibMTL's `RLW` with its default normal
 * distribution: at every step L = Σ_t w_t L_t with w = softmax(z), z_t ~ N(0, 1) drawn in
 * task order from an rng seeded by the run's seed and the step (so threads agree and a
 * resumed run repeats). A loss weighting: one backward pass, heads weighted too.
 */
import { Rng, deriveSeed } from '../data/rng';
import { weightedSum, weightedSumMethod } from './fixed';
import type { WeightingFactory } from './types';

const RLW_STREAM = 0x524c5721;

/** softmax of `count` standard-normal draws from `rng`. */
export function rlwWeights(count: number, rng: Rng): number[] {
  const z = Array.from({ length: count }, () => rng.normal());
  const top = Math.max(...z);
  const exps = z.map((v) => Math.exp(v - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

export const rlwWeighting: WeightingFactory<{ type: 'rlw' }> = (_config, tasks) => {
  let weights = tasks.map(() => 1 / tasks.length);
  return {
    ...weightedSumMethod(() => weights),
    objective: (losses, position) => {
      weights = rlwWeights(tasks.length, new Rng(deriveSeed(position.seed, RLW_STREAM, position.globalStep)));
      return weightedSum(losses, weights);
    },
  };
};
