import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backends';
import { softPenalty } from '../../src/models/penalty';
import { createWeighting } from '../../src/weighting';
import { dwaWeights } from '../../src/weighting/dwa';
import { gradNormUpdate } from '../../src/weighting/gradnorm';
import { configFrom } from '../helpers/config';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'cpu' });
});

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-5, `${what}: ${a} != ${b}`);

test('soft penalty, three tasks: λ·Σ_{a<b} Σ (θa−θb)² and λ·Σ|θa−θb|', () => {
  // One weight group of 2 values per task copy.
  const vars = [tf.variable(tf.tensor1d([1, 2])), tf.variable(tf.tensor1d([0, 4])), tf.variable(tf.tensor1d([3, 3]))];
  const second = [tf.variable(tf.tensor1d([1])), tf.variable(tf.tensor1d([2])), tf.variable(tf.tensor1d([0]))];
  const groups = [{ name: 'dense_1/kernel', variables: vars }, { name: 'dense_1/bias', variables: second }];
  // pairs (0,1): [1,-2] (0,2): [-2,-1] (1,2): [-3,1]; second group: (0,1): -1, (0,2): 1, (1,2): 2
  const l2 = 1 + 4 + 4 + 1 + 9 + 1 + (1 + 1 + 4);
  const l1 = 1 + 2 + 2 + 1 + 3 + 1 + (1 + 1 + 2);
  close(softPenalty(groups, { lambda: 0.5, penalty: 'l2' }).dataSync()[0], 0.5 * l2, 'l2');
  close(softPenalty(groups, { lambda: 0.5, penalty: 'l1' }).dataSync()[0], 0.5 * l1, 'l1');
  close(softPenalty(groups.slice(0, 1), { lambda: 2, penalty: 'l2' }).dataSync()[0], 2 * 20, 'one group');
});

const twoTasks = `data: {format: csv, path: x.csv}
model: {backbone: {type: mlp}}
tasks:
  kind: {type: classification, target: k}
  size: {type: regression, target: s}`;

const step = { globalStep: 1, seed: 42 };

test('uncertainty terms: e^(−s)·L + ½s for classification, ½·e^(−s)·L + ½s for regression', () => {
  const w = createWeighting({ type: 'uncertainty' }, configFrom(twoTasks).tasks);
  w.setState({ logVariances: [0.5, -1] });
  const losses = [tf.scalar(2), tf.scalar(3)];
  const expected = Math.exp(-0.5) * 2 + 0.25 + 0.5 * Math.exp(1) * 3 - 0.5;
  close(w.objective(losses, step).dataSync()[0], expected, 'objective');
  close(w.weights()[0], Math.exp(-0.5), 'weight of the classification task');
  close(w.weights()[1], 0.5 * Math.exp(1), 'weight of the regression task');
  // ∂/∂s of the classification term: −e^(−s)·L + ½
  const { grads } = tf.variableGrads(() => w.objective(losses, step), w.variables);
  close(grads[w.variables[0].name].dataSync()[0], -Math.exp(-0.5) * 2 + 0.5, 'gradient of s');
});

test('DWA weights from the last two epoch losses, summing to the number of tasks', () => {
  // ratios 0.5 and 1.0, T = 2: w = 2·e^(r/2)/Σ
  const w = dwaWeights([1, 2], [2, 2], 2);
  const e1 = Math.exp(0.25);
  const e2 = Math.exp(0.5);
  close(w[0], (2 * e1) / (e1 + e2), 'task 1');
  close(w[1], (2 * e2) / (e1 + e2), 'task 2');
  close(w[0] + w[1], 2, 'sum');
  // Through the method: weights stay 1 for two epochs, then follow the formula.
  const method = createWeighting({ type: 'dwa', temperature: 2 }, configFrom(twoTasks).tasks);
  method.afterEpoch([2, 2]);
  assert.deepEqual(method.weights(), [1, 1]);
  method.afterEpoch([1, 2]);
  close(method.weights()[0], w[0], 'after two epochs');
});

test('one GradNorm update by hand', () => {
  // w = [1, 1], L(0) = [2, 1], L = [1, 1] -> L~ = [0.5, 1], r = [2/3, 4/3]; G = [2, 1], Ḡ = 1.5, α = 1
  // targets = [1, 2]; sign(G − target) = [+1, −1]; ∂/∂w = [+2, −1]; lr 0.1 -> [0.8, 1.1] -> ×2/1.9
  const next = gradNormUpdate({ weights: [1, 1], initialLosses: [2, 1] }, [1, 1], [2, 1], 1, 0.1);
  close(next.weights[0], (0.8 * 2) / 1.9, 'w1');
  close(next.weights[1], (1.1 * 2) / 1.9, 'w2');
  assert.deepEqual(next.initialLosses, [2, 1]);
  // The first update records L(0) from the losses it sees.
  assert.deepEqual(gradNormUpdate({ weights: [1, 1], initialLosses: null }, [3, 4], [1, 1], 1.5, 0.1).initialLosses, [3, 4]);
});

test('RLW: each step L = Σ softmax(z)_t · L_t with z ~ N(0, 1) from the run seed and step: same step, same weights; weights fair on average', () => {
  const w = createWeighting({ type: 'rlw' }, configFrom(twoTasks).tasks);
  const losses = [tf.scalar(2), tf.scalar(3)];
  const seen: number[][] = [];
  for (let globalStep = 1; globalStep <= 4000; globalStep++) {
    const value = w.objective(losses, { globalStep, seed: 7 }).dataSync()[0];
    const [a, b] = w.weights();
    close(a + b, 1, 'weights sum to 1');
    assert.ok(a > 0 && b > 0);
    close(value, 2 * a + 3 * b, 'objective');
    seen.push([a, b]);
  }
  w.objective(losses, { globalStep: 17, seed: 7 }).dispose();
  assert.deepEqual(w.weights(), seen[16], 'the same step draws the same weights');
  w.objective(losses, { globalStep: 17, seed: 8 }).dispose();
  assert.notDeepEqual(w.weights(), seen[16], 'another seed draws others');
  assert.ok(new Set(seen.map((p) => p[0])).size > 3900, 'new weights every step');
  assert.ok(Math.abs(seen.reduce((m, p) => m + p[0], 0) / seen.length - 0.5) < 0.02, 'mean weight near 1/2');
});
