import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerCpuTrainingKernels } from '../../../src/backends/kernels/cpu';
import { assertClose, assertMatchesFiniteDifferences, countCalls, finiteDifferences, randomTensor, someEntries, values } from './helpers';
import { buildSmallResnet, resnetLoss } from './resnet-fixture';

/** tfjs-layers' training-mode batch norm. */
function trainingBatchNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, x.shape.map((_, i) => i).slice(0, -1));
  return tf.batchNorm(x, mean, variance, beta, gamma, 1e-3);
}

const SHAPE = [3, 5, 4, 6];
const INPUT: [number, number, number] = [21, 23, 3];

function batchNormGrads(): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.add(tf.mul(randomTensor(SHAPE, 1), 2), 0.5);
    const gamma = tf.add(randomTensor([6], 2), 1.2);
    const beta = randomTensor([6], 3);
    const dy = tf.tensor(values(360, 99), SHAPE);
    const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(trainingBatchNorm(a, g, b), dy));
    return tf.grads(f)([x, gamma, beta]).map((t) => t.dataSync() as Float32Array);
  });
}

function resnetGrads(model: ReturnType<typeof buildSmallResnet>): Float32Array[] {
  const x = randomTensor([3, ...INPUT], 1);
  const labels = tf.oneHot(tf.tensor1d([0, 3, 4], 'int32'), 5);
  const targets = randomTensor([3, 1], 2);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => resnetLoss(model, x, labels, targets), variables);
  const out = variables.map((v) => grads[v.name].dataSync() as Float32Array);
  tf.dispose([x, labels, targets, value, ...Object.values(grads)]);
  return out;
}

test('with the mtl kernels, cpu batch-norm and ResNet gradients equal the stock ones; conv kernels are used', async () => {
  await tf.setBackend('cpu');
  const model = buildSmallResnet(INPUT);
  const stockBn = batchNormGrads();
  const stockNet = resnetGrads(model);

  registerCpuTrainingKernels();
  let bn: Float32Array[] = [];
  const bnCalls = await countCalls('MtlFusedBatchNormGrad', 'cpu', () => { bn = batchNormGrads(); });
  assert.equal(bnCalls, 1);
  ['dx', 'dgamma', 'dbeta'].forEach((what, i) => assertClose(bn[i], stockBn[i], what));

  let net: Float32Array[] = [];
  const filterCalls = await countCalls('Conv2DBackpropFilter', 'cpu', () => { net = resnetGrads(model); });
  assert.equal(filterCalls, 10);
  stockNet.forEach((b, k) => {
    assertClose(net[k], b, `weight ${k} (${model.trainableWeights[k].originalName})`, 1e-3, 2e-5);
  });
  model.dispose();

  // finite differences of the forward op for the batch-norm gradient
  const xs = [tf.add(tf.mul(randomTensor(SHAPE, 1), 2), 0.5), tf.add(randomTensor([6], 2), 1.2), randomTensor([6], 3)];
  const f = ([a, g, b]: tf.Tensor[]) => trainingBatchNorm(a, g, b);
  ['dx', 'dgamma', 'dbeta'].forEach((what, i) => {
    assertMatchesFiniteDifferences(bn[i], finiteDifferences(f, xs, values(360, 99), i, someEntries(xs[i].size, 5), 1e-2), what, 1e-2, 2e-3);
  });
  tf.dispose(xs);
});
