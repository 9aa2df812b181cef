import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backends';
import type { TaskConfig } from '../../src/config/schema';
import { UNLABELLED_CLASS } from '../../src/data/labels';
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
  for (const loss of Object.keys(lossRegistry).filter((l) => lossRegistry[l].taskType === 'regression')) {
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
