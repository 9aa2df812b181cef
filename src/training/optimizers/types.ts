import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../../outputs/checkpoint';

/** What the training step needs from an optimizer; two implementations sit behind it. */
export interface TrainOptimizer {
  setLearningRate(rate: number): void;
  /** Squared L2 norm of the whole gradient (finite-ness decides whether the step applies). */
  gradNormSq(grads: tf.NamedTensorMap, variables: tf.Variable[]): number;
  /** Updates `variables` with `grads` (keyed by variable name). */
  apply(grads: tf.NamedTensorMap, variables: tf.Variable[]): void;
  /** The slots (step count, moments) as named tensors, for checkpoints; the caller disposes them. */
  getState(): Promise<NamedTensor[]>;
  setState(state: NamedTensor[]): Promise<void>;
  dispose(): void;
}

/** Σ‖g‖² over every gradient, read back once. */
export function gradientNormSq(grads: tf.NamedTensorMap): number {
  const list = Object.values(grads);
  if (list.length === 0) return 0;
  return tf.tidy(() => tf.addN(list.map((g) => tf.sum(tf.square(g)))).dataSync()[0]);
}
