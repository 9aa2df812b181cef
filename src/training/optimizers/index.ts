import type { OptimizerConfig } from '../../config/schema';
import { HostAdam } from './host-adam';
import { TfjsOptimizer } from './tfjs';
import type { TrainOptimizer } from './types';

/**
 * Adam runs on the host where the tensors already live in CPU memory; tfjs's own
 * optimizers serve the GPU and the other methods.
 */
export function createOptimizer(config: OptimizerConfig, tensorsOnHost: boolean): TrainOptimizer {
  if (config.type === 'adam' && tensorsOnHost) {
    return new HostAdam({ learningRate: config.learning_rate, beta1: config.beta_1, beta2: config.beta_2, epsilon: config.epsilon });
  }
  return new TfjsOptimizer(config);
}

/** The implementation a config and backend give, recorded with optimizer state so resumes match it. */
export function optimizerKind(config: OptimizerConfig, tensorsOnHost: boolean): string {
  return config.type === 'adam' && tensorsOnHost ? 'adam-host' : config.type;
}

export type { TrainOptimizer } from './types';
