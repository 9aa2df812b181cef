import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerConfig } from '../config/schema';

export function createOptimizer(config: OptimizerConfig): tf.Optimizer {
  switch (config.type) {
    case 'adam':
      return tf.train.adam(config.learning_rate, config.beta_1, config.beta_2, config.epsilon);
    case 'sgd':
      return config.momentum > 0
        ? tf.train.momentum(config.learning_rate, config.momentum, config.nesterov)
        : tf.train.sgd(config.learning_rate);
    case 'rmsprop':
      return tf.train.rmsprop(config.learning_rate, config.rho, config.momentum, config.epsilon);
  }
}

/** SGD-style optimizers cache -lr as a tensor and need their setter; the others read a field each step. */
export function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  const o = optimizer as unknown as { setLearningRate?: (r: number) => void; learningRate: number };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(rate);
  else o.learningRate = rate;
}
