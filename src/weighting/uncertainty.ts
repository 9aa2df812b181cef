import * as tf from '@tensorflow/tfjs-core';
import type { Weighting, WeightingFactory } from './types';

/**
 * Homoscedastic uncertainty weighting (Kendall, Gal and Cipolla 2018): a learned
 * log-variance s_t per task, trained with the model. Regression terms are
 * ½·e^(−s)·L + ½·s, classification terms e^(−s)·L + ½·s.
 */
let instances = 0;

export const uncertaintyWeighting: WeightingFactory<{ type: 'uncertainty' }> = (_config, tasks, names): Weighting => {
  const scale = tasks.map((t) => (t.type === 'regression' ? 0.5 : 1));
  const id = instances++;
  const logVars = names.map((n) => tf.variable(tf.scalar(0), true, `mtl_uncertainty_${id}_${n}`));
  return {
    variables: logVars,
    needsRepresentationGrads: false,
    objective: (losses) =>
      tf.addN(losses.map((l, i) => tf.add(tf.mul(tf.mul(tf.exp(tf.neg(logVars[i])), scale[i]), l), tf.mul(logVars[i], 0.5)))) as tf.Scalar,
    weights: () => logVars.map((s, i) => scale[i] * Math.exp(-s.dataSync()[0])),
    afterStep: () => undefined,
    afterEpoch: () => undefined,
    getState: () => ({ logVariances: logVars.map((s) => s.dataSync()[0]) }),
    setState: (state) => {
      const values = (state as { logVariances: number[] }).logVariances;
      logVars.forEach((s, i) => s.assign(tf.scalar(values[i])));
    },
    dispose: () => logVars.forEach((s) => s.dispose()),
  };
};
