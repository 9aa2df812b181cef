/**
 * The training step with a gradient method: the shared part moves along the method's
 * combination of the task gradients (on the parameters, or on the shared features and
 * then back through the backbone), each head along its own task's gradient.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backends';
import { configSchema, type Config } from '../../src/config/schema';
import type { Preprocessing } from '../../src/data/types';
import { buildModel } from '../../src/models/build';
import { asArray, modelInput } from '../../src/training/evaluate';
import { taskLoss, taskTarget } from '../../src/training/losses';
import { createReplica } from '../../src/training/replica';
import { createGradientMethod } from '../../src/weighting/gradient';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

const preprocessing: Preprocessing = {
  kind: 'table',
  inputs: [0, 1, 2].map((i) => ({ name: `x${i}`, type: 'numeric', shape: [1], state: { mean: 0, std: 1 } })),
  targets: {
    cls: { kind: 'classification', column: 'c', classes: ['a', 'b', 'c'] },
    reg: { kind: 'regression', columns: ['r'], mean: [0], std: [1] },
  },
};

function setup(on: 'parameters' | 'representation', headUnits: number[]): Config {
  return configSchema.parse({
    data: { format: 'csv', path: 'x' },
    model: { backbone: { type: 'mlp', units: [6] }, head: { units: headUnits } },
    tasks: { cls: { type: 'classification', target: 'c' }, reg: { type: 'regression', target: 'r' } },
    training: { optimizer: { type: 'sgd', learning_rate: 1 }, weighting: { type: 'mgda', on } },
  });
}

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 0.9);

// Heads of one output layer, and heads with hidden layers (the shared features are still what the first head layer sees).
for (const [on, headUnits] of [['parameters', []], ['representation', []], ['parameters', [4]], ['representation', [4, 3]]] as const) {
  test(`mgda on ${on}, heads with hidden layers [${headUnits.join(', ')}]: the shared weights move by the min-norm combination, each head by its own task's gradient`, () => {
    const config = setup(on, [...headUnits]);
    const model = buildModel(config, preprocessing);
    const replica = createReplica(config, model, false);
    const { network, tasks } = replica;
    const n = 8;
    const x = [tf.tensor(values(n * 3, 1), [n, 3])];
    const targets = [taskTarget(tasks[0], Int32Array.from({ length: n }, (_, i) => i % 3), n), taskTarget(tasks[1], values(n, 2), n)];
    const before = replica.step.trainable.map((v) => v.dataSync().slice());
    const losses = tasks.map((task, t) => tf.tidy(() => taskLoss(task, asArray(model.apply(modelInput(x)))[t], targets[t]).dataSync()[0]));

    const heads = network.heads.map((h) => h.trainableWeights.map((w) => w.read() as tf.Variable));
    const expected = new Map<tf.Variable, Float32Array>();
    const mgda = createGradientMethod('mgda', {}, 2);
    const context = { step: 1, rng: { next: () => 0.5 } as never };
    const own = tasks.map((task, t) => tf.variableGrads(() => taskLoss(task, asArray(model.apply(modelInput(x)))[t], targets[t]), heads[t]).grads);
    heads.forEach((vars, t) => vars.forEach((v) => expected.set(v, own[t][v.name].dataSync() as Float32Array)));
    if (on === 'parameters') {
      const perTask = tasks.map((task, t) => {
        const { grads } = tf.variableGrads(() => taskLoss(task, asArray(model.apply(modelInput(x)))[t], targets[t]), network.shared);
        return Float32Array.from(network.shared.flatMap((v) => Array.from(grads[v.name].dataSync())));
      });
      const { direction } = mgda.aggregate({ grads: perTask, losses }, context);
      let o = 0;
      for (const v of network.shared) expected.set(v, direction.slice(o, (o += v.size)));
    } else {
      const h = asArray(network.features.apply(modelInput(x)))[0];
      const perTask = tasks.map((task, t) => tf.grad((z: tf.Tensor) => taskLoss(task, asArray(network.heads[t].apply(z))[0], targets[t]))(h).dataSync() as Float32Array);
      const { direction } = mgda.aggregate({ grads: perTask, losses }, context);
      const d = tf.tensor(direction, h.shape);
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(asArray(network.features.apply(modelInput(x)))[0], d)) as tf.Scalar, network.shared);
      for (const v of network.shared) expected.set(v, grads[v.name].dataSync() as Float32Array);
    }

    const result = replica.step.run(x, targets, { globalStep: 1, seed: 1 }, false);
    assert.ok(result.applied);
    assert.ok(replica.weighting.weights().every((w) => Number.isFinite(w) && w >= 0), `mgda weights ${replica.weighting.weights()}`);
    replica.step.trainable.forEach((v, k) => {
      const want = expected.get(v);
      assert.ok(want, `${v.name}: every weight is shared or a head's`);
      const moved = v.dataSync();
      for (let i = 0; i < v.size; i++) {
        const step = before[k][i] - moved[i];
        assert.ok(Math.abs(step - want[i]) < 1e-5, `${v.name}[${i}]: moved ${step}, expected ${want[i]}`);
      }
    });
    assert.equal(network.shared.length, 2, 'shared: the backbone layer\'s kernel and bias, no head layer');
    assert.deepEqual(network.heads.map((h) => h.layers.length), [headUnits.length + 1, headUnits.length + 1]);
  });
}
