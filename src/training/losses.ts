/**
 * Loss functions by the config's `loss` name. Classification losses take logits and
 * class indices; multilabel losses take logits and label indicators (0 absent, the
 * label's positive weight present); regression losses take predictions and targets in
 * standardized units. Each gives one loss per sample (or per sample and column);
 * `taskLoss` reduces them to the mean over the rows that carry the task's label, or,
 * with class weights, to Σ w_i · ℓ_i / Σ w_i over those rows (PyTorch's
 * CrossEntropyLoss(weight=...) with reduction 'mean').
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TaskConfig } from '../config/schema';
import { classColumn, isLabelled, isWeightedClasses, rowWeights, UNLABELLED_CLASS, type TaskTargets } from '../data/labels';
import { DEFAULT_FOCAL_GAMMA } from '../data/targets';
import { softmaxCrossEntropyApplies, softmaxCrossEntropyOp } from '../backends/kernels/softmax-cross-entropy';

export interface LossSpec {
  /** The task types this loss applies to. */
  taskTypes: readonly TaskConfig['type'][];
  /** Losses per sample ([n]) or per sample and output column ([n, k]). */
  perSample(output: tf.Tensor, target: tf.Tensor, task: TaskConfig): tf.Tensor;
}

function crossEntropy(logits: tf.Tensor, labels: tf.Tensor, task: TaskConfig): tf.Tensor1D {
  const numClasses = logits.shape[logits.shape.length - 1] as number;
  const smoothing = task.type === 'classification' ? task.label_smoothing : 0;
  // one kernel each way on wasm and cpu (src/backends/kernels/softmax-cross-entropy.ts)
  if (softmaxCrossEntropyApplies(logits, labels)) return softmaxCrossEntropyOp(logits as tf.Tensor2D, labels as tf.Tensor1D, smoothing);
  const onehot = tf.oneHot(labels as tf.Tensor1D, numClasses);
  return tf.losses.softmaxCrossEntropy(onehot, logits, undefined, smoothing, tf.Reduction.NONE) as tf.Tensor1D;
}

/** (x)^γ for x in [0, 1], with a gradient that stays finite where x reaches 0. */
function modulating(x: tf.Tensor, gamma: number): tf.Tensor | undefined {
  if (gamma === 0) return undefined;
  if (gamma === 1) return x;
  const safe = tf.maximum(x, 1e-12);
  return gamma === 2 ? tf.square(safe) : tf.pow(safe, gamma);
}

function focalParameters(task: TaskConfig): { gamma: number; alpha?: number } {
  if (task.type === 'regression') return { gamma: DEFAULT_FOCAL_GAMMA };
  return { gamma: task.focal_gamma ?? DEFAULT_FOCAL_GAMMA, alpha: task.focal_alpha };
}

/**
 * Softmax focal loss (Lin et al. 2017): −Σ_c q_c · α_c · (1 − p_c)^γ · log p_c, with q the
 * (label-smoothed) one-hot target, so γ = 0 without α is exactly the cross-entropy.
 * α (two classes only): α for the second class, 1 − α for the first.
 */
function softmaxFocal(logits: tf.Tensor, labels: tf.Tensor, task: TaskConfig): tf.Tensor1D {
  const numClasses = logits.shape[logits.shape.length - 1] as number;
  const smoothing = task.type === 'classification' ? task.label_smoothing : 0;
  const { gamma, alpha } = focalParameters(task);
  let q: tf.Tensor = tf.cast(tf.oneHot(labels as tf.Tensor1D, numClasses), 'float32');
  if (smoothing > 0) q = tf.add(tf.mul(q, 1 - smoothing), smoothing / numClasses);
  const logp = tf.logSoftmax(logits);
  let terms = tf.mul(q, tf.neg(logp));
  const factor = modulating(tf.sub(1, tf.exp(logp)), gamma);
  if (factor) terms = tf.mul(terms, factor);
  if (alpha !== undefined && numClasses === 2) terms = tf.mul(terms, tf.tensor1d([1 - alpha, alpha]));
  return tf.sum(terms, -1) as tf.Tensor1D;
}

/**
 * Binary cross-entropy per label from logits z and indicators v (v = 0: absent; v > 0:
 * present, v its positive weight): v · softplus(−z) + [v = 0] · softplus(z), i.e.
 * −v·log σ(z) − (1 − y)·log(1 − σ(z)), as PyTorch's BCEWithLogitsLoss with pos_weight.
 * Focal (sigmoid, as torchvision's sigmoid_focal_loss): the positive term times
 * α·(1 − p)^γ, the negative one times (1 − α)·p^γ.
 */
function binaryTerms(logits: tf.Tensor, indicators: tf.Tensor, task: TaskConfig, focal: boolean): tf.Tensor {
  const negative = tf.cast(tf.equal(indicators, 0), 'float32');
  let pos = tf.mul(indicators, tf.softplus(tf.neg(logits)));
  let neg = tf.mul(negative, tf.softplus(logits));
  if (focal) {
    const { gamma, alpha } = focalParameters(task);
    const p = tf.sigmoid(logits);
    const posFactor = modulating(tf.sub(1, p), gamma);
    const negFactor = modulating(p, gamma);
    if (posFactor) pos = tf.mul(pos, posFactor);
    if (negFactor) neg = tf.mul(neg, negFactor);
    if (alpha !== undefined) {
      pos = tf.mul(pos, alpha);
      neg = tf.mul(neg, 1 - alpha);
    }
  }
  return tf.add(pos, neg);
}

export const lossRegistry: Record<string, LossSpec> = {
  sparse_categorical_crossentropy: { taskTypes: ['classification'], perSample: crossEntropy },
  // Same value as the sparse form; the targets are one-hot encoded internally.
  categorical_crossentropy: { taskTypes: ['classification'], perSample: crossEntropy },
  binary_crossentropy: { taskTypes: ['multilabel'], perSample: (z, v, task) => binaryTerms(z, v, task, false) },
  focal: {
    taskTypes: ['classification', 'multilabel'],
    perSample: (z, t, task) => (task.type === 'multilabel' ? binaryTerms(z, t, task, true) : softmaxFocal(z, t, task)),
  },
  mse: { taskTypes: ['regression'], perSample: (y, t) => tf.squaredDifference(y, t) },
  mae: { taskTypes: ['regression'], perSample: (y, t) => tf.abs(tf.sub(y, t)) },
  huber: {
    taskTypes: ['regression'],
    perSample: (y, t, task) => tf.losses.huberLoss(t, y, undefined, task.type === 'regression' ? task.huber_delta : 1, tf.Reduction.NONE),
  },
};

/** A task's targets for one batch (or shard) as the loss takes them. */
export interface TaskTarget {
  /** Class indices (int32, [n]) or standardized values / label indicators ([n, k]); unlabelled rows hold 0. */
  values: tf.Tensor;
  /**
   * Per row: 1 for rows that carry the label, 0 for the others (with class weights: the
   * row's weight, 0 unlabelled); absent when every row counts 1.
   */
  mask?: tf.Tensor1D;
  /**
   * Divides the (masked) sum of per-sample losses instead of taking the mean: the
   * labelled rows (with class weights: their summed weight) of the whole batch times this
   * shard's share of it, so the shards of a data-parallel step add up to the batch's mean exactly.
   */
  denominator?: number;
  /** Rows that carry the label. */
  labelled: number;
  /** The summed weight of those rows (what the weighted mean divides by); `labelled` without class weights. */
  weight?: number;
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
 * become 0 with mask 0; class-weighted rows get their weight as mask. `denominator` as in
 * TaskTarget; omitted: the (weighted) mean over labelled rows.
 */
export function taskTarget(task: TaskConfig, values: TaskTargets, n: number, denominator?: number): TaskTarget {
  if (task.type === 'classification') return classTarget(values as Int32Array, n, denominator);
  const k = n > 0 ? values.length / n : 1;
  let labelled = 0;
  for (let i = 0; i < n; i++) if (isLabelled(values, i, k)) labelled++;
  if (labelled === n) {
    const full = denominator !== undefined && denominator !== n;
    return { values: tf.tensor(values, [n, k], 'float32'), denominator: full ? denominator : undefined, labelled, weight: labelled };
  }
  const filled = Float32Array.from(values as Float32Array, (v) => (Number.isNaN(v) ? 0 : v));
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) mask[i] = isLabelled(values, i, k) ? 1 : 0;
  return { values: tf.tensor(filled, [n, k], 'float32'), mask: tf.tensor1d(mask), denominator: denominator ?? labelled, labelled, weight: labelled };
}

function classTarget(values: Int32Array, n: number, denominator?: number): TaskTarget {
  const classes = classColumn(values, n);
  let labelled = 0;
  for (let i = 0; i < n; i++) if (classes[i] !== UNLABELLED_CLASS) labelled++;
  const weighted = isWeightedClasses(values, n);
  if (labelled === n && !weighted) {
    const full = denominator !== undefined && denominator !== n;
    return { values: tf.tensor1d(classes, 'int32'), denominator: full ? denominator : undefined, labelled, weight: labelled };
  }
  const weights = rowWeights(values, n);
  const weight = weights.reduce((a, w) => a + w, 0);
  const filled = Int32Array.from(classes, (c) => (c === UNLABELLED_CLASS ? 0 : c));
  return { values: tf.tensor1d(filled, 'int32'), mask: tf.tensor1d(weights), denominator: denominator ?? weight, labelled, weight };
}

export function disposeTargets(targets: TaskTarget[]): void {
  tf.dispose(targets.flatMap((t) => (t.mask ? [t.values, t.mask] : [t.values])));
}
