import type { StepInfo, WeightingFactory } from './types';
import { weightedSumMethod } from './fixed';

export interface GradNormState {
  weights: number[];
  /** Each task's loss at the first step, L_t(0). */
  initialLosses: number[] | null;
}

/**
 * One GradNorm update (Chen et al. 2018). G_t = ‖∇(w_t L_t)‖ is each task's gradient
 * norm at the shared representation; the targets are Ḡ · r_t^α with r_t the task's
 * relative inverse training rate (L_t/L_t(0) over its mean). The weights take a
 * gradient step on Σ_t |G_t − target_t| (targets held constant, and G_t = w_t·‖∇L_t‖, so
 * ∂/∂w_t = sign(G_t − target_t)·G_t/w_t), stay positive, and are renormalized to sum to K.
 */
export function gradNormUpdate(state: GradNormState, losses: number[], gradNorms: number[], alpha: number, learningRate: number): GradNormState {
  const initial = state.initialLosses ?? losses;
  const k = losses.length;
  const ratios = losses.map((l, t) => l / initial[t]);
  const meanRatio = ratios.reduce((a, b) => a + b, 0) / k;
  const meanNorm = gradNorms.reduce((a, b) => a + b, 0) / k;
  const targets = ratios.map((r) => meanNorm * (r / meanRatio) ** alpha);
  const stepped = state.weights.map((w, t) => {
    const grad = Math.sign(gradNorms[t] - targets[t]) * (w > 0 ? gradNorms[t] / w : 0);
    return Math.max(w - learningRate * grad, 1e-3);
  });
  const sum = stepped.reduce((a, b) => a + b, 0);
  return { weights: stepped.map((w) => (w * k) / sum), initialLosses: initial };
}

export const gradNormWeighting: WeightingFactory<{ type: 'gradnorm'; alpha: number; learning_rate: number }> = (config, tasks) => {
  let state: GradNormState = { weights: tasks.map(() => 1), initialLosses: null };
  return weightedSumMethod(() => state.weights, {
    needsRepresentationGrads: true,
    afterStep: (info: StepInfo) => {
      if (!info.representationGradNorms) throw new Error('gradnorm needs representation gradient norms');
      state = gradNormUpdate(state, info.losses, info.representationGradNorms, config.alpha, config.learning_rate);
    },
    getState: () => state,
    setState: (s) => {
      state = s as GradNormState;
    },
  });
};
