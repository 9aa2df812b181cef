/**
 * Task heads with hidden layers (model.head, a task's own head): MultiLeNet's 50-50-10
 * heads have the paper's layers and parameter count and train; without the option a
 * model is what it always was, one output layer per task on the shared features.
 */
import { singleInput } from '../helpers/features';
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backends';
import { buildModel } from '../../src/models/build';
import { asNetwork } from '../../src/models/network';
import type { Preprocessing } from '../../src/data/types';
import { createReplica } from '../../src/training/replica';
import { taskTarget } from '../../src/training/losses';
import { configFrom } from '../helpers/config';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

const classes = Array.from({ length: 10 }, (_, i) => `c${i}`);
const pre: Preprocessing = {
  kind: 'image',
  inputs: singleInput([28, 28, 1]),
  targets: { left: { kind: 'classification', column: 'left', classes }, right: { kind: 'classification', column: 'right', classes } },
};

function multiLeNet(model: string) {
  return configFrom(`data: {format: idx, images: i.idx, targets: {left: l.idx, right: r.idx}}
model: {backbone: {type: cnn, filters: [10, 20], kernel_size: 5, units: [50]}${model}}
tasks:
  left: {type: classification, target: left}
  right: {type: classification, target: right}
training: {optimizer: {type: adam, learning_rate: 0.003}}`);
}

// conv 5x5x1x10 + 10, conv 5x5x10x20 + 20, dense 4·4·20 -> 50: the MultiLeNet trunk.
const trunk = 5 * 5 * 10 + 10 + (5 * 5 * 10 * 20 + 20) + (320 * 50 + 50);

test('without a head option every task has one output layer on the shared features, as before', () => {
  const model = buildModel(multiLeNet(''), pre);
  assert.equal(model.countParams(), trunk + 2 * (50 * 10 + 10));
  const net = asNetwork(model, ['left', 'right']);
  assert.deepEqual(net.heads.map((h) => h.layers.map((l) => l.name)), [['head_left'], ['head_right']]);
  assert.deepEqual(net.features.outputs.map((o) => o.shape), [[null, 50]]);
  model.dispose();
});

test('model.head units [50, 50] gives MultiLeNet heads 50-50-10: two hidden ReLU layers, then the output', () => {
  const model = buildModel(multiLeNet(', head: {units: [50, 50], activation: relu}'), pre);
  const head = 50 * 50 + 50 + (50 * 50 + 50) + (50 * 10 + 10);
  assert.equal(model.countParams(), trunk + 2 * head);
  const net = asNetwork(model, ['left', 'right']);
  assert.deepEqual(
    net.heads.map((h) => h.layers.map((l) => [l.name, (l.getConfig() as { units: number; activation: string }).units, (l.getConfig() as { activation: string }).activation])),
    ['left', 'right'].map((t) => [
      [`head_${t}.dense_1`, 50, 'relu'],
      [`head_${t}.dense_2`, 50, 'relu'],
      [`head_${t}`, 10, 'linear'],
    ]),
  );
  // One shared representation (what on: representation differentiates) and no head weight among the shared ones.
  assert.deepEqual(net.features.outputs.map((o) => o.shape), [[null, 50]]);
  assert.equal(net.shared.length, 6, 'two convolutions and the dense layer, kernel and bias each');
  model.dispose();
});

test('a task\'s own head replaces model.head for that task; dropout adds a layer after each hidden one', () => {
  const config = multiLeNet(', head: {units: [50, 50]}');
  config.tasks.right.head = { units: [8], activation: 'tanh', dropout: 0.2 };
  const model = buildModel(config, pre);
  const net = asNetwork(model, ['left', 'right']);
  assert.deepEqual(net.heads[1].layers.map((l) => l.name), ['head_right.dense_1', 'head_right.dropout_1', 'head_right']);
  assert.equal(net.heads[0].layers.length, 3);
  assert.equal(model.countParams(), trunk + (50 * 50 + 50 + (50 * 50 + 50) + (50 * 10 + 10)) + (50 * 8 + 8 + (8 * 10 + 10)));
  model.dispose();
});

test('50-50-10 heads train: the loss of a fixed batch falls and the hidden head layers move', () => {
  const config = multiLeNet(', head: {units: [50, 50], dropout: 0.1}');
  const model = buildModel(config, pre);
  const replica = createReplica(config, model, false);
  const n = 16;
  const x = [tf.randomUniform([n, 28, 28, 1], 0, 1, 'float32', 3)];
  const targets = replica.tasks.map((task, t) => taskTarget(task, Int32Array.from({ length: n }, (_, i) => (i * (t + 3)) % 10), n));
  const hidden = model.getLayer('head_left.dense_2').getWeights()[0].dataSync().slice();
  const losses: number[] = [];
  for (let step = 1; step <= 40; step++) {
    const result = replica.step.run(x, targets, { globalStep: step, seed: 1 }, false);
    assert.ok(result.applied);
    losses.push(result.taskLosses[0] + result.taskLosses[1]);
  }
  assert.ok(losses[losses.length - 1] < 0.5 * losses[0], `loss ${losses[0]} -> ${losses[losses.length - 1]}`);
  const moved = model.getLayer('head_left.dense_2').getWeights()[0].dataSync();
  assert.ok(moved.some((v, i) => v !== hidden[i]), 'the hidden head layer was trained');
  tf.dispose(x);
  model.dispose();
});
