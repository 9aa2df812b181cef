import type * as tf from '@tensorflow/tfjs-core';
import type { TaskConfig } from '../config/schema';
import type { Aggregation, GradientSet } from './gradient/types';

/** What a weighting method is told after each training step. */
export interface StepInfo {
  /** Each task's loss on the batch. */
  losses: number[];
  /** ‖∂(w_t·L_t)/∂h_t‖ at the features each head sees (only when `needsRepresentationGrads`). */
  representationGradNorms?: number[];
}

/**
 * How task losses combine into the objective, and how the weights evolve. One
 * file per method, all behind this interface (as in LibMTL).
 */
export interface Weighting {
  /** Variables trained together with the model (e.g. uncertainty's log-variances). */
  readonly variables: tf.Variable[];
  /** The step must measure per-task gradient norms at the shared representation. */
  readonly needsRepresentationGrads: boolean;
  /** Gradient methods only: the step gives them the task gradients of the shared part (see gradient-weighting.ts). */
  readonly gradient?: GradientAggregation;
  /** The objective of one step from the task losses; runs inside the gradient tape. */
  objective(losses: tf.Scalar[], position: { globalStep: number; seed: number }): tf.Scalar;
  /** The weight each task's loss currently gets (logged as weight/<task>). */
  weights(): number[];
  afterStep(info: StepInfo): void;
  /** After each epoch with the mean training loss of every task. */
  afterEpoch(epochLosses: number[]): void;
  /** JSON-safe state for checkpoints; setState restores it exactly. */
  getState(): object;
  setState(state: object): void;
  dispose(): void;
}

export type WeightingFactory<C> = (config: C, tasks: TaskConfig[], names: string[]) => Weighting;

/** How a gradient method takes part in a step: where the task gradients are taken, and their combination. */
export interface GradientAggregation {
  /** `parameters`: each task's gradient on the shared weights; `representation`: on the shared features. */
  readonly on: 'parameters' | 'representation';
  /** The direction for the shared part; randomness is seeded by the run's seed and the step. */
  aggregate(set: GradientSet, step: { globalStep: number; seed: number }): Aggregation;
}
