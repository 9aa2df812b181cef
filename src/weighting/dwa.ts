import type { WeightingFactory } from './types';
import { weightedSumMethod } from './fixed';

/**
 * Dynamic weight average (Liu, Johns and Davison 2019): from the third epoch on,
 * w_t = K · exp(r_t / T) / Σ_k exp(r_k / T) with r_t = L_t(e−1) / L_t(e−2), the ratio
 * of the task's last two epoch losses; the weights sum to the number of tasks K.
 */
export function dwaWeights(previous: number[], beforePrevious: number[], temperature: number): number[] {
  const ratios = previous.map((l, t) => l / beforePrevious[t]);
  const exps = ratios.map((r) => Math.exp(r / temperature));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => (previous.length * e) / sum);
}

export const dwaWeighting: WeightingFactory<{ type: 'dwa'; temperature: number }> = (config, tasks) => {
  let history: number[][] = [];
  let weights = tasks.map(() => 1);
  return weightedSumMethod(() => weights, {
    afterEpoch: (epochLosses) => {
      history = [...history.slice(-1), epochLosses];
      if (history.length === 2) weights = dwaWeights(history[1], history[0], config.temperature);
    },
    getState: () => ({ history, weights }),
    setState: (state) => {
      ({ history, weights } = state as { history: number[][]; weights: number[] });
    },
  });
};
