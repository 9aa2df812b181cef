/**
 * A gradient-aggregation method (weighting/gradient/) as a weighting: it owns the
 * backward pass of the shared part. The training step hands it each task's gradient
 * on the shared parameters (`on: parameters`) or on the shared features the heads see
 * (`on: representation`, one backbone backward pass, as LibMTL's rep_grad) and applies
 * the direction it returns; heads and other task-specific weights keep their own
 * gradients (of Σ_t L_t).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientWeightingConfig } from '../config/schema';
import { Rng, deriveSeed } from '../data/rng';
import { createGradientMethod, type GradientMethodName } from './gradient';
import type { Aggregation, GradientSet } from './gradient/types';
import type { GradientAggregation, WeightingFactory } from './types';

const GRADIENT_METHOD_STREAM = 0x47524144;

export const gradientWeighting: WeightingFactory<GradientWeightingConfig> = (config, tasks) => {
  const taskCount = tasks.length;
  const { type, on, ...options } = config;
  const method = createGradientMethod(type as GradientMethodName, options as never, taskCount);
  let last = new Array<number>(taskCount).fill(1);
  const gradient: GradientAggregation = {
    on,
    aggregate(set: GradientSet, step: { globalStep: number; seed: number }): Aggregation {
      const result = method.aggregate(set, { step: step.globalStep, rng: new Rng(deriveSeed(step.seed, GRADIENT_METHOD_STREAM, step.globalStep)) });
      last = result.weights;
      return result;
    },
  };
  return {
    variables: [],
    needsRepresentationGrads: false,
    gradient,
    objective: (losses) => tf.addN(losses) as tf.Scalar,
    weights: () => last,
    afterStep: () => undefined,
    afterEpoch: () => undefined,
    getState: () => ({ method: method.getState(), weights: last }),
    setState: (state) => {
      const s = state as { method?: object; weights?: number[] };
      if (s.method) method.setState(s.method);
      if (s.weights) last = s.weights;
    },
    dispose: () => undefined,
  };
};
