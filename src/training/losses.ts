/**
 * Loss functions by the config's `loss` name. Classification losses take logits and
 * class indices; regression losses take predictions and targets in standardized
 * units. Each gives one loss per sample; `taskLoss` reduces them to the mean over
 * the rows that carry the task's label.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TaskConfig } from '../config/schema';
import { isLabelled, UNLABELLED_CLASS, type TaskTargets } from '../data/labels';

export interface LossSpec {
  /** The task type this loss applies to. */
  taskType: TaskConfig['type'];
  /** Losses per sample ([n]) or per sample and output column ([n, k]). */
  perSample(output: tf.Tensor, target: tf.Tensor, task: TaskConfig): tf.Tensor;
}

function crossEntropy(logits: tf.Tensor, labels: tf.Tensor, task: TaskConfig): tf.Tensor1D {
  const numClasses = logits.shape[logits.shape.length - 1] as number;
  const smoothing = task.type === 'classification' ? task.label_smoothing : 0;
  const onehot = tf.oneHot(labels as tf.Tensor1D, numClasses);
  return tf.losses.softmaxCrossEntropy(onehot, logits, undefined, smoothing, tf.Reduction.NONE) as tf.Tensor1D;
}

export const lossRegistry: Record<string, LossSpec> = {
  sparse_categorical_crossentropy: { taskType: 'classification', perSample: crossEntropy },
  // Same value as the sparse form; the targets are one-hot encoded internally.
  categorical_crossentropy: { taskType: 'classification', perSample: crossEntropy },
  mse: { taskType: 'regression', perSample: (y, t) => tf.squaredDifference(y, t) },
  mae: { taskType: 'regression', perSample: (y, t) => tf.abs(tf.sub(y, t)) },
  huber: {
    taskType: 'regression',
    perSample: (y, t, task) => tf.losses.huberLoss(t, y, undefined, task.type === 'regression' ? task.huber_delta : 1, tf.Reduction.NONE),
  },
};

/** A task's targets for one batch (or shard) as the loss takes them. */
export interface TaskTarget {
  /** Class indices (int32, [n]) or standardized values ([n, k]); unlabelled rows hold 0. */
  values: tf.Tensor;
  /** 1 for rows that carry the label, 0 for the others; absent when every row does. */
  mask?: tf.Tensor1D;
  /**
   * Divides the (masked) sum of per-sample losses instead of taking the mean: the
   * labelled rows of the whole batch times this shard's share of it, so the shards of
   * a data-parallel step add up to the mean over the batch's labelled rows exactly.
   */
  denominator?: number;
  /** Rows that carry the label. */
  labelled: number;
}

export function taskLoss(task: TaskConfig, output: tf.Tensor, target: TaskTarget): tf.Scalar {
  const elementwise = lossRegistry[task.loss].perSample(output, target.values, task);
  // Every row labelled: the mean over all elements, as one reduction.
  if (!target.mask && target.denominator === undefined) return tf.mean(elementwise) as tf.Scalar;
  const losses = elementwise.rank > 1 ? tf.mean(elementwise, -1) : elementwise;
  const sum = tf.sum(target.mask ? tf.mul(losses, target.mask) : losses);
  // No labelled row: 0, still connected to the graph so the gradient is zero, not missing.
  return tf.div(sum, target.denominator || 1) as tf.Scalar;
}

/**
 * Builds a batch's TaskTarget from host arrays (n rows of `values`): unlabelled rows
 * become 0 with mask 0. `denominator` as in TaskTarget; omitted: the mean over labelled rows.
 */
export function taskTarget(task: TaskConfig, values: TaskTargets, n: number, denominator?: number): TaskTarget {
  const k = n > 0 ? values.length / n : 1;
  let labelled = 0;
  for (let i = 0; i < n; i++) if (isLabelled(values, i, k)) labelled++;
  const classification = task.type === 'classification';
  const shape = classification ? [n] : [n, k];
  if (labelled === n) {
    const full = denominator !== undefined && denominator !== n;
    return { values: tf.tensor(values, shape, classification ? 'int32' : 'float32'), denominator: full ? denominator : undefined, labelled };
  }
  const filled = classification ? Int32Array.from(values as Int32Array, (c) => (c === UNLABELLED_CLASS ? 0 : c)) : Float32Array.from(values as Float32Array, (v) => (Number.isNaN(v) ? 0 : v));
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) mask[i] = isLabelled(values, i, k) ? 1 : 0;
  return {
    values: tf.tensor(filled, shape, classification ? 'int32' : 'float32'),
    mask: tf.tensor1d(mask),
    denominator: denominator ?? labelled,
    labelled,
  };
}

export function disposeTargets(targets: TaskTarget[]): void {
  tf.dispose(targets.flatMap((t) => (t.mask ? [t.values, t.mask] : [t.values])));
}
