/**
 * Loss functions by the config's `loss` name. Classification losses take logits and
 * class indices; regression losses take predictions and targets in standardized
 * units. Each returns the mean over the batch as a scalar.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TaskConfig } from '../config/schema';

export interface LossSpec {
  /** The task type this loss applies to. */
  taskType: TaskConfig['type'];
  compute(output: tf.Tensor, target: tf.Tensor, task: TaskConfig): tf.Scalar;
}

function crossEntropy(logits: tf.Tensor, labels: tf.Tensor, task: TaskConfig): tf.Scalar {
  const numClasses = logits.shape[logits.shape.length - 1] as number;
  const smoothing = task.type === 'classification' ? task.label_smoothing : 0;
  const onehot = tf.oneHot(labels as tf.Tensor1D, numClasses);
  return tf.losses.softmaxCrossEntropy(onehot, logits, undefined, smoothing) as tf.Scalar;
}

export const lossRegistry: Record<string, LossSpec> = {
  sparse_categorical_crossentropy: { taskType: 'classification', compute: crossEntropy },
  // Same value as the sparse form; the targets are one-hot encoded internally.
  categorical_crossentropy: { taskType: 'classification', compute: crossEntropy },
  mse: { taskType: 'regression', compute: (y, t) => tf.mean(tf.squaredDifference(y, t)) as tf.Scalar },
  mae: { taskType: 'regression', compute: (y, t) => tf.mean(tf.abs(tf.sub(y, t))) as tf.Scalar },
  huber: {
    taskType: 'regression',
    compute: (y, t, task) => tf.losses.huberLoss(t, y, undefined, task.type === 'regression' ? task.huber_delta : 1) as tf.Scalar,
  },
};

export function taskLoss(task: TaskConfig, output: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return lossRegistry[task.loss].compute(output, target, task);
}
