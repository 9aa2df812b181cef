import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { assertGradientsMatch, countCalls, randomTensor } from './helpers';
import { buildSmallResnet, resnetLoss } from './resnet-fixture';

registerWasmTrainingKernels();

const INPUT: [number, number, number] = [21, 23, 3];
const BATCH = 3;

/** Loss and gradients of every trainable weight, with the same initial weights on each backend. */
async function gradients(backend: string, weights: Float32Array[] | null) {
  await tf.setBackend(backend);
  const model = buildSmallResnet(INPUT);
  if (weights !== null) model.setWeights(weights.map((w, i) => tf.tensor(w, model.getWeights()[i].shape)));
  const x = randomTensor([BATCH, ...INPUT], 1);
  const labels = tf.oneHot(tf.tensor1d([0, 3, 4], 'int32'), 5);
  const targets = randomTensor([BATCH, 1], 2);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => resnetLoss(model, x, labels, targets), variables);
  const out = {
    weights: model.getWeights().map((w) => w.dataSync() as Float32Array),
    loss: value.dataSync()[0],
    grads: variables.map((v) => ({ name: model.trainableWeights[variables.indexOf(v)].originalName, values: grads[v.name].dataSync() as Float32Array })),
  };
  tf.dispose([x, labels, targets, value, ...Object.values(grads)]);
  model.dispose();
  return out;
}

test('a small ResNet training step on wasm gives the cpu backend\'s loss and gradients', async () => {
  const cpu = await gradients('cpu', null);
  let wasm = cpu;
  const filterCalls = await countCalls('Conv2DBackpropFilter', 'wasm', async () => {
    const bnCalls = await countCalls('MtlFusedBatchNormGrad', 'wasm', async () => { wasm = await gradients('wasm', cpu.weights); });
    assert.equal(bnCalls, 10, 'every batch norm uses the mtl gradient kernel');
  });
  assert.equal(filterCalls, 10, 'every convolution uses the mtl filter gradient');
  assert.ok(Math.abs(wasm.loss - cpu.loss) <= 1e-4 * Math.abs(cpu.loss), `loss ${wasm.loss} vs ${cpu.loss}`);
  assert.equal(wasm.grads.length, cpu.grads.length);
  assert.ok(cpu.grads.length > 30, `${cpu.grads.length} trainable weights`);
  // atol: a conv bias followed by batch norm has a zero gradient up to rounding
  assertGradientsMatch(wasm.grads, cpu.grads, { rtol: 1e-3, atol: 2e-5, nonZero: false });
});

test('repeated training steps on wasm leak no tensors and no wasm memory', async () => {
  await tf.setBackend('wasm');
  const model = buildSmallResnet(INPUT);
  const optimizer: tf.Optimizer = tf.train.adam(1e-3);
  const x = randomTensor([BATCH, ...INPUT], 1);
  const labels = tf.oneHot(tf.tensor1d([0, 3, 4], 'int32'), 5);
  const targets = randomTensor([BATCH, 1], 2);
  const step = () => {
    const { value, grads } = tf.variableGrads(() => resnetLoss(model, x, labels, targets));
    optimizer.applyGradients(grads);
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const after1 = tf.memory();
  for (let i = 0; i < 3; i++) step();
  const after4 = tf.memory();
  assert.equal(after4.numTensors, after1.numTensors);
  assert.equal(after4.numDataBuffers, after1.numDataBuffers);
  tf.dispose([x, labels, targets]);
  optimizer.dispose();
  model.dispose();
});
