/**
 * tfjs's own optimizers (Adam, SGD with or without momentum, RMSProp), used where the
 * tensors live on a GPU and for SGD and RMSProp everywhere. Their slots round-trip
 * through checkpoints with tfjs-state.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerConfig } from '../../config/schema';
import { getOptimizerState, setOptimizerState } from './tfjs-state';
import { gradientNormSq, type TrainOptimizer } from './types';

function create(config: OptimizerConfig): tf.Optimizer {
  switch (config.type) {
    case 'adam':
      return tf.train.adam(config.learning_rate, config.beta_1, config.beta_2, config.epsilon);
    case 'sgd':
      return config.momentum > 0 ? tf.train.momentum(config.learning_rate, config.momentum, config.nesterov) : tf.train.sgd(config.learning_rate);
    case 'rmsprop':
      return tf.train.rmsprop(config.learning_rate, config.rho, config.momentum, config.epsilon);
  }
}

export class TfjsOptimizer implements TrainOptimizer {
  private readonly optimizer: tf.Optimizer;

  constructor(config: OptimizerConfig) {
    this.optimizer = create(config);
  }

  /** SGD-style optimizers cache −lr as a tensor and need their setter; the others read a field each step. */
  setLearningRate(rate: number): void {
    const o = this.optimizer as unknown as { setLearningRate?: (r: number) => void; learningRate: number };
    if (typeof o.setLearningRate === 'function') o.setLearningRate(rate);
    else o.learningRate = rate;
  }

  gradNormSq(grads: tf.NamedTensorMap): number {
    return gradientNormSq(grads);
  }

  apply(grads: tf.NamedTensorMap): void {
    this.optimizer.applyGradients(grads);
  }

  async getState() {
    const slots = await getOptimizerState(this.optimizer);
    // getWeights() returns the optimizer's own variables plus a fresh step-count tensor: copy so the caller may dispose all.
    return slots.map((s) => ({ name: s.name, tensor: s.tensor instanceof tf.Variable ? s.tensor.clone() : s.tensor }));
  }

  setState(state: { name: string; tensor: tf.Tensor }[]): Promise<void> {
    return setOptimizerState(this.optimizer, state);
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
