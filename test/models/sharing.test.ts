import { singleInput } from '../helpers/features';
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backends';
import { buildModel } from '../../src/models/build';
import { asNetwork } from '../../src/models/network';
import { sharingRegistry } from '../../src/models/sharing';
import type { Preprocessing } from '../../src/data/types';
import { configFrom } from '../helpers/config';
import { taskLoss } from '../../src/training/losses';
import { asArray } from '../../src/training/evaluate';
import { trainCommand } from '../../src/cli/train';
import { silentProgress } from '../../src/training/progress';
import { loadCheckpoint } from '../../src/outputs/checkpoint';
import { captureOutput } from '../helpers/output';
import { repoRoot, tempDir, writeFile } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

const pre: Preprocessing = {
  kind: 'table',
  inputs: singleInput([4]),
  targets: {
    a: { kind: 'classification', column: 'a', classes: ['x', 'y', 'z'] },
    b: { kind: 'regression', columns: ['b'], mean: [0], std: [1] },
    c: { kind: 'regression', columns: ['c'], mean: [0], std: [1] },
  },
};

function config(sharing: string) {
  return configFrom(`data: {format: csv, path: x.csv}
model: {backbone: {type: mlp, units: [8, 6]}, sharing: ${sharing}}
tasks:
  a: {type: classification, target: a}
  b: {type: regression, target: b}
  c: {type: regression, target: c}`);
}

test('every sharing scheme builds a model with one output per task and the expected shared weights', () => {
  const expectShared: Record<string, boolean> = { hard: true, soft: false, cross_stitch: true };
  assert.deepEqual(Object.keys(expectShared).sort(), Object.keys(sharingRegistry).sort());
  for (const type of Object.keys(sharingRegistry)) {
    const model = buildModel(config(`{type: ${type}}`), pre);
    const net = asNetwork(model, ['a', 'b', 'c']);
    const out = model.predict(tf.ones([2, 4])) as tf.Tensor[];
    assert.deepEqual(out.map((o) => o.shape), [[2, 3], [2, 1], [2, 1]], type);
    assert.equal(net.shared.length > 0, expectShared[type], `${type} shared weights`);
    if (type === 'soft') assert.equal(net.copies.length, 4, 'two dense layers x kernel and bias, each with three copies');
    model.dispose();
  }
});

test('cross-stitch units start near identity: a task keeps init_self of its own activations', () => {
  const model = buildModel(config('{type: cross_stitch, init_self: 0.8}'), pre);
  const alpha = model.getLayer('cross_stitch_1_b').getWeights()[0].dataSync();
  assert.deepEqual(Array.from(alpha).map((v) => +v.toFixed(6)), [0.1, 0.8, 0.1]);
});

test('soft sharing: each task copy gets no gradient from the other tasks (λ = 0 means independent models)', () => {
  const model = buildModel(config('{type: soft, lambda: 0}'), pre);
  const net = asNetwork(model, ['a', 'b', 'c']);
  const copy = (task: string) => model.layers.filter((l) => l.name.startsWith(`${task}__`)).flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
  const copyOfA = copy('a');
  const x = tf.randomNormal([5, 4], 0, 1, 'float32', 1);
  const { grads } = tf.variableGrads(() => {
    const outputs = asArray(net.model.apply(x, { training: true }));
    return taskLoss({ type: 'regression', target: 'b', loss: 'mse', huber_delta: 1, weight: 1, metrics: ['mae'] }, outputs[1], { values: tf.ones([5, 1]), labelled: 5 });
  }, [...copyOfA, ...copy('b')]);
  assert.ok(copy('b').some((v) => grads[v.name] && tf.max(tf.abs(grads[v.name])).dataSync()[0] > 0), 'b trains its own copy');
  for (const v of copyOfA) assert.ok(!grads[v.name] || tf.max(tf.abs(grads[v.name])).dataSync()[0] === 0, `${v.name} gets no gradient from b`);
});

test('soft sharing with a very large λ drives the copies together; λ = 0 leaves them apart', async () => {
  const dir = tempDir();
  const distance = async (lambda: number) => {
    const file = writeFile(
      dir,
      `soft-${lambda}.yaml`,
      `data: {format: csv, path: ${repoRoot}/datasets/penguins/penguins.csv, features: [bill_length_mm, bill_depth_mm, flipper_length_mm]}
model: {backbone: {type: mlp, units: [8]}, sharing: {type: soft, lambda: ${lambda}}}
tasks:
  species: {type: classification, target: species}
  mass: {type: regression, target: body_mass_g}
training: {epochs: 15, optimizer: {type: adam, learning_rate: 0.01}}`,
    );
    const out = `${dir}/run-${lambda}`;
    await trainCommand({ config: file, out }, captureOutput(), silentProgress);
    const { model } = await loadCheckpoint(`${out}/checkpoints/last`);
    const a = model.getLayer('species__dense_1').getWeights()[0];
    const b = model.getLayer('mass__dense_1').getWeights()[0];
    return tf.norm(tf.sub(a, b)).dataSync()[0];
  };
  const apart = await distance(0);
  const together = await distance(100);
  assert.ok(apart > 1, `independent copies stay apart (${apart})`);
  assert.ok(together < apart / 20, `λ = 100 pulls them together (${together} vs ${apart})`);
});
