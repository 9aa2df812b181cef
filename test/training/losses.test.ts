import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backends';
import type { TaskConfig } from '../../src/config/schema';
import { countLabelled, UNLABELLED_CLASS, weightedClasses } from '../../src/data/labels';
import { lossRegistry, taskLoss, taskTarget } from '../../src/training/losses';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'cpu' });
});

const classification: TaskConfig = { type: 'classification', target: 'c', loss: 'sparse_categorical_crossentropy', label_smoothing: 0, weight: 1, metrics: ['accuracy'] } as TaskConfig;
const regression = (loss: string): TaskConfig => ({ type: 'regression', target: 'r', loss, huber_delta: 1, weight: 1, metrics: ['mae'] }) as TaskConfig;
const value = (t: tf.Scalar) => t.dataSync()[0];

test('a masked loss is the mean over the labelled rows only', () => {
  const logits = tf.tensor2d([[2, 0], [0, 2], [5, -5], [1, 1]]);
  const full = value(taskLoss(classification, tf.tensor2d([[2, 0], [1, 1]]), taskTarget(classification, Int32Array.from([0, 1]), 2)));
  const masked = value(taskLoss(classification, logits, taskTarget(classification, Int32Array.from([0, UNLABELLED_CLASS, UNLABELLED_CLASS, 1]), 4)));
  assert.ok(Math.abs(masked - full) < 1e-6, `${masked} vs ${full}`);
  for (const loss of Object.keys(lossRegistry).filter((l) => lossRegistry[l].taskTypes.includes('regression'))) {
    const y = tf.tensor2d([[1], [2], [3]]);
    const a = value(taskLoss(regression(loss), y, taskTarget(regression(loss), Float32Array.from([0, NaN, 5]), 3)));
    const b = value(taskLoss(regression(loss), tf.tensor2d([[1], [3]]), taskTarget(regression(loss), Float32Array.from([0, 5]), 2)));
    assert.ok(Math.abs(a - b) < 1e-6, `${loss}: ${a} vs ${b}`);
  }
});

test('a batch without a labelled row contributes 0 and a zero gradient, never NaN', () => {
  const w = tf.variable(tf.tensor2d([[0.5, -0.5]]));
  const x = tf.tensor2d([[1], [2]]);
  const target = taskTarget(classification, Int32Array.from([UNLABELLED_CLASS, UNLABELLED_CLASS]), 2);
  const { value: loss, grads } = tf.variableGrads(() => taskLoss(classification, tf.matMul(x, w), target), [w]);
  assert.equal(value(loss), 0);
  assert.deepEqual(Array.from(grads[w.name].dataSync()), [0, 0]);
  const r = taskTarget(regression('mse'), Float32Array.from([NaN, NaN]), 2);
  assert.equal(value(taskLoss(regression('mse'), tf.tensor2d([[1], [2]]), r)), 0);
});

test('shards with the whole batch\'s denominator add up to the batch mean', () => {
  const y = tf.tensor2d([[1], [2], [3], [4]]);
  const labels = Float32Array.from([0, NaN, 1, 7]);
  const whole = value(taskLoss(regression('mae'), y, taskTarget(regression('mae'), labels, 4)));
  // Shard 1: rows 0-1 (1 labelled), shard 2: rows 2-3 (2 labelled); 3 labelled in all, share 1/2 each.
  const first = value(taskLoss(regression('mae'), tf.slice(y, 0, 2), taskTarget(regression('mae'), labels.subarray(0, 2), 2, 3 * 0.5)));
  const second = value(taskLoss(regression('mae'), tf.slice(y, 2, 2), taskTarget(regression('mae'), labels.subarray(2), 2, 3 * 0.5)));
  assert.ok(Math.abs(0.5 * first + 0.5 * second - whole) < 1e-6, `${0.5 * first + 0.5 * second} vs ${whole}`);
});

const focal = (extra: Record<string, unknown> = {}): TaskConfig => ({ ...classification, loss: 'focal', ...extra }) as TaskConfig;
const multilabel = (extra: Record<string, unknown> = {}): TaskConfig =>
  ({ type: 'multilabel', target: 't', loss: 'binary_crossentropy', delimiter: '|', empty_cell: 'missing', threshold: 0.5, weight: 1, metrics: ['micro_f1'], ...extra }) as TaskConfig;
const perSample = (task: TaskConfig, y: tf.Tensor, t: tf.Tensor) => Array.from(lossRegistry[task.loss].perSample(y, t, task).dataSync());
const close = (a: number[], b: number[], tol = 1e-5) => a.every((v, i) => Math.abs(v - b[i]) < tol) && a.length === b.length;

test('focal loss at gamma 0 is the cross-entropy, with and without label smoothing', () => {
  const logits = tf.tensor2d([[2, 0, -1], [0.5, 0.4, 3], [-2, 1, 0]]);
  const labels = tf.tensor1d([0, 1, 2], 'int32');
  for (const smoothing of [0, 0.1]) {
    const ce = perSample({ ...classification, label_smoothing: smoothing } as TaskConfig, logits, labels);
    const fl = perSample(focal({ focal_gamma: 0, label_smoothing: smoothing }), logits, labels);
    assert.ok(close(fl, ce), `smoothing ${smoothing}: ${fl} vs ${ce}`);
  }
  // Multilabel: sigmoid focal at gamma 0 without alpha is the binary cross-entropy.
  const z = tf.tensor2d([[2, -1], [0.3, 4]]);
  const y = tf.tensor2d([[1, 0], [0, 1]]);
  assert.ok(close(perSample(multilabel({ loss: 'focal', focal_gamma: 0 }), z, y), perSample(multilabel(), z, y)));
});

test('focal loss scales each cross-entropy by (1 - p_t)^gamma: easy examples count far less than hard ones', () => {
  // Two classes; p_t = 0.9 (easy) and 0.1 (hard) for the true class 0.
  const logit = Math.log(9);
  const logits = tf.tensor2d([[logit, 0], [-logit, 0]]);
  const labels = tf.tensor1d([0, 0], 'int32');
  const ce = perSample(classification, logits, labels);
  const fl = perSample(focal(), logits, labels);
  assert.ok(close(fl, [0.01 * ce[0], 0.81 * ce[1]]), `${fl} vs ${ce}`);
  assert.ok(fl[0] / ce[0] < fl[1] / ce[1] / 50, 'the easy example is down-weighted 81x relative to the hard one');
  // alpha weighs the second class with alpha, the first with 1 - alpha.
  const alpha = perSample(focal({ focal_alpha: 0.25 }), logits, tf.tensor1d([0, 1], 'int32'));
  const noAlpha = perSample(focal(), logits, tf.tensor1d([0, 1], 'int32'));
  assert.ok(close(alpha, [0.75 * noAlpha[0], 0.25 * noAlpha[1]]));
  // Its gradient stays finite for a confident, correct prediction.
  const w = tf.variable(tf.tensor2d([[40, -40]]));
  const { grads } = tf.variableGrads(() => taskLoss(focal({ focal_gamma: 0.5 }), tf.matMul(tf.tensor2d([[1]]), w), taskTarget(focal(), Int32Array.from([0]), 1)), [w]);
  assert.ok(Array.from(grads[w.name].dataSync()).every(Number.isFinite));
});

test('class weights: the loss is sum w_i l_i / sum w_i over the labelled rows, also across shards', () => {
  const task = { ...classification, class_weight: 'balanced' } as TaskConfig;
  const logits = tf.tensor2d([[2, 0], [0, 1], [1, 1], [3, -1], [0, 0.5]]);
  const classes = Int32Array.from([0, 1, UNLABELLED_CLASS, 1, 0]);
  const weights = [0.5, 3];
  const values = weightedClasses(classes, weights);
  const ce = perSample(classification, logits, tf.tensor1d(Int32Array.from(classes, (c) => Math.max(c, 0)), 'int32'));
  const w = [0.5, 3, 0, 3, 0.5];
  const byHand = w.reduce((a, wi, i) => a + wi * ce[i], 0) / w.reduce((a, b) => a + b, 0);
  const whole = value(taskLoss(task, logits, taskTarget(task, values, 5)));
  assert.ok(Math.abs(whole - byHand) < 1e-6, `${whole} vs ${byHand}`);
  // countLabelled is the summed weight of the labelled rows: the denominator replicas share.
  const order = [0, 1, 2, 3, 4];
  assert.equal(countLabelled(values, 5, order, 0, 5), 7);
  // Two shards (rows 0-1 and 2-4), each dividing by the whole batch's weight times its share: they add up exactly.
  const total = countLabelled(values, 5, order, 0, 5);
  const shard = (start: number, end: number) => value(taskLoss(task, tf.slice(logits, start, end - start), taskTarget(task, values.subarray(2 * start, 2 * end), end - start, total * ((end - start) / 5))));
  const summed = (2 / 5) * shard(0, 2) + (3 / 5) * shard(2, 5);
  assert.ok(Math.abs(summed - whole) < 1e-6, `${summed} vs ${whole}`);
  // Without weights the same rows give the plain masked mean.
  const plain = value(taskLoss(classification, logits, taskTarget(classification, classes, 5)));
  assert.ok(Math.abs(plain - (ce[0] + ce[1] + ce[3] + ce[4]) / 4) < 1e-6);
});

test('multilabel binary cross-entropy: mean over labels, pos_weight on the positive term, unlabelled rows masked', () => {
  const z = [[1.5, -0.5, 0], [-2, 2, 0.7]];
  // Row 0: labels {0, 2} with pos_weight 2 for label 2; row 1: {1}.
  const indicators = Float32Array.from([1, 0, 2, 0, 1, 0]);
  const softplus = (x: number) => Math.log1p(Math.exp(x));
  const byHand = [
    [softplus(-1.5), softplus(-0.5), 2 * softplus(-0)],
    [softplus(-2), softplus(-2), softplus(0.7)],
  ];
  const rowMeans = byHand.map((r) => (r[0] + r[1] + r[2]) / 3);
  const task = multilabel();
  const loss = value(taskLoss(task, tf.tensor2d(z), taskTarget(task, indicators, 2)));
  assert.ok(Math.abs(loss - (rowMeans[0] + rowMeans[1]) / 2) < 1e-6, `${loss}`);
  const masked = Float32Array.from([...indicators, NaN, NaN, NaN]);
  const withMissing = value(taskLoss(task, tf.tensor2d([...z, [9, 9, 9]]), taskTarget(task, masked, 3)));
  assert.ok(Math.abs(withMissing - loss) < 1e-6, 'a row without the label changes nothing');
});
