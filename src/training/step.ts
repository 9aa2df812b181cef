/**
 * One optimization step of the multi-task loss L = Σ_t w_t · L_t, written by hand
 * because tfjs's model.compile has no loss weights. Everything the step allocates
 * is freed before it returns: the tensor count stays flat across steps.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { TaskConfig } from '../config/schema';
import { asArray } from './evaluate';
import { taskLoss } from './losses';

export interface StepResult {
  /** Each task's loss on the batch, in task order. */
  taskLosses: number[];
  /** The weighted total that was differentiated. */
  total: number;
  /** Squared L2 norm of the whole gradient. */
  gradNormSq: number;
  /** False when the step was skipped (non-finite loss or gradient). */
  applied: boolean;
}

export class TrainStep {
  private readonly variables: tf.Variable[];

  constructor(
    private readonly model: tfl.LayersModel,
    private readonly tasks: TaskConfig[],
    private readonly optimizer: tf.Optimizer,
  ) {
    this.variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  /**
   * Forward, backward and update on one batch. `weights` are the task weights for
   * this step. With `skipNonFinite`, a batch whose loss or gradient is NaN/Inf
   * leaves the weights untouched.
   */
  run(x: tf.Tensor, targets: tf.Tensor[], weights: number[], skipNonFinite = true): StepResult {
    return tf.tidy(() => {
      let kept: tf.Scalar[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const outputs = asArray(this.model.apply(x, { training: true }));
        kept = outputs.map((y, i) => tf.keep(taskLoss(this.tasks[i], y, targets[i])));
        return tf.addN(kept.map((l, i) => (weights[i] === 1 ? l : tf.mul(l, weights[i])))) as tf.Scalar;
      }, this.variables);
      const gradList = Object.values(grads);
      const normSq = gradList.length ? tf.addN(gradList.map((g) => tf.sum(tf.square(g)))) : tf.scalar(0);
      const read = tf.stack([...kept, value, normSq]).dataSync();
      kept.forEach((t) => t.dispose());
      const n = this.tasks.length;
      const total = read[n];
      const gradNormSq = read[n + 1];
      const finite = Number.isFinite(total) && Number.isFinite(gradNormSq);
      if (finite || !skipNonFinite) this.optimizer.applyGradients(grads);
      return { taskLosses: Array.from(read.subarray(0, n)), total, gradNormSq, applied: finite || !skipNonFinite };
    });
  }
}
