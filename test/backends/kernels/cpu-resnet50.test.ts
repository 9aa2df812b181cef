/**
 * The plain-JS cpu engine still trains mtl's `preset: resnet50` correctly: a few
 * steps of mtl's own training step (Adam, cross-entropy + MSE) on one batch of four
 * 48x48 images give finite, falling losses, and the first step's loss and the weights
 * after it agree with the wasm engine's from the same initial weights. (48x48 leaves
 * the last stage 2x2: at 32x32 its batch norms see four values per channel and the
 * two engines' rounding differences grow to 0.5% of the loss; Adam 1e-4, since at 1e-3
 * the losses of four images jump around for the first steps on either engine.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backends';
import { configSchema, defaultImageEncoder } from '../../../src/config/schema';
import type { Preprocessing, Split } from '../../../src/data/types';
import { buildModel } from '../../../src/models/build';
import { createReplica, replicaStep } from '../../../src/training/replica';
import { values } from './helpers';

const SIZE = 48;
const BATCH = 4;

const config = configSchema.parse({
  name: 'cpu-resnet50',
  data: { format: 'idx', images: 'x', targets: { c: 'c', r: 'r' } },
  model: { backbone: { type: 'resnet', preset: 'resnet50' } },
  tasks: { cls: { type: 'classification', target: 'c' }, reg: { type: 'regression', target: 'r' } },
  training: { batch_size: BATCH, optimizer: { type: 'adam', learning_rate: 0.0001 }, diagnostics: { enabled: false } },
});
const preprocessing: Preprocessing = {
  kind: 'image',
  inputs: [{ name: 'image', type: 'image', shape: [SIZE, SIZE, 3], state: { height: SIZE, width: SIZE, channels: 3, resize: false, encoder: defaultImageEncoder() } }],
  targets: {
    cls: { kind: 'classification', column: 'c', classes: Array.from({ length: 10 }, (_, i) => String(i)) },
    reg: { kind: 'regression', columns: ['r'], mean: [0], std: [1] },
  },
};
const split: Split = {
  size: BATCH,
  inputs: [{ name: 'image', shape: [SIZE, SIZE, 3], packed: false, values: values(BATCH * SIZE * SIZE * 3, 1) }],
  targets: { cls: Int32Array.from([3, 1, 7, 1]), reg: values(BATCH, 2) },
  rows: Int32Array.from({ length: BATCH }, (_, i) => i),
};

/** Losses of `steps` steps on the one batch, and the weights after the first step. */
export async function train(backend: 'cpu' | 'wasm', steps: number, weights?: Float32Array[]) {
  await initBackend({ device: 'cpu', backend });
  const model = buildModel(config, preprocessing);
  if (weights) model.setWeights(weights.map((w, i) => tf.tensor(w, model.getWeights()[i].shape)));
  const initial = model.getWeights().map((w) => w.dataSync() as Float32Array);
  const replica = createReplica(config, model, true);
  const order = Uint32Array.from({ length: BATCH }, (_, i) => i);
  const losses: number[] = [];
  let afterFirst: Float32Array[] = [];
  let tensors = 0;
  const t0 = performance.now();
  for (let s = 1; s <= steps; s++) {
    const r = replicaStep(replica, { split, order, start: 0, end: BATCH, globalStep: s, seed: 1, skipNonFinite: false });
    losses.push(r.total);
    if (s === 1) {
      afterFirst = model.getWeights().map((w) => w.dataSync() as Float32Array);
      tensors = tf.memory().numTensors; // with Adam's moments, made by the first step
    }
  }
  const msPerStep = (performance.now() - t0) / steps;
  const leaked = tf.memory().numTensors - tensors;
  replica.optimizer.dispose();
  model.dispose();
  return { losses, initial, afterFirst, msPerStep, leaked };
}

test('ResNet-50 trains on the plain-JS cpu engine: finite, falling losses that agree with wasm', { timeout: 600_000 }, async () => {
  const cpu = await train('cpu', 4);
  process.stdout.write(`# cpu: losses ${cpu.losses.map((l) => l.toFixed(4)).join(' ')}, ${cpu.msPerStep.toFixed(0)} ms per step of ${BATCH} at ${SIZE}x${SIZE}\n`);
  assert.ok(cpu.losses.every(Number.isFinite), `losses ${cpu.losses}`);
  assert.ok(cpu.losses[cpu.losses.length - 1] < 0.8 * cpu.losses[0] && cpu.losses[2] < cpu.losses[0], `loss falls: ${cpu.losses}`);
  assert.equal(cpu.leaked, 0, 'the tensor count stays flat after the first step');
  const wasm = await train('wasm', 1, cpu.initial);
  assert.ok(Math.abs(wasm.losses[0] - cpu.losses[0]) <= 1e-3 * Math.abs(cpu.losses[0]), `first loss: wasm ${wasm.losses[0]}, cpu ${cpu.losses[0]}`);
  // Adam's first step moves every weight by about lr (1e-4): the two engines must move them alike.
  let worst = 0;
  cpu.afterFirst.forEach((w, k) => {
    for (let i = 0; i < w.length; i += 97) worst = Math.max(worst, Math.abs(w[i] - wasm.afterFirst[k][i]));
  });
  assert.ok(worst < 2e-5, `weights after one step differ by up to ${worst}`);
});
