import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import {
  assertClose, assertMatchesFiniteDifferences, countCalls, finiteDifferences, on, randomTensor, someEntries, values,
} from './helpers';

registerWasmTrainingKernels();

/** tfjs-layers' training-mode batch norm: normalise by the batch's own moments. */
function trainingBatchNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const axes = x.shape.map((_, i) => i).slice(0, -1);
  const { mean, variance } = tf.moments(x, axes);
  return tf.batchNorm(x, mean, variance, beta, gamma, 1e-3);
}

const SHAPES = [[3, 5, 4, 6], [1, 3, 7, 8], [7, 5]];

for (const shape of SHAPES) {
  const c = shape[shape.length - 1];
  const inputs = (seed: number) => [
    tf.add(tf.mul(randomTensor(shape, seed), 2), 0.5),
    tf.add(randomTensor([c], seed + 1), 1.2),
    randomTensor([c], seed + 2),
  ];

  test(`training-mode batch norm gradient on wasm matches cpu and finite differences, x ${shape.join('x')}`, async () => {
    const r = values(shape.reduce((a, b) => a * b, 1), 99);
    const gradsOn = (backend: string) => on(backend, () => {
      const [x, gamma, beta] = inputs(1);
      const dy = tf.tensor(r, shape);
      const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(trainingBatchNorm(a, g, b), dy));
      return [trainingBatchNorm(x, gamma, beta), ...tf.grads(f)([x, gamma, beta])];
    });
    const ref = await gradsOn('cpu');
    let got: Float32Array[] = [];
    const calls = await countCalls('MtlFusedBatchNormGrad', 'wasm', async () => { got = await gradsOn('wasm'); });
    assert.equal(calls, 1, 'the FusedBatchNorm gradient runs the mtl kernel');
    ['y', 'dx', 'dgamma', 'dbeta'].forEach((what, i) => assertClose(got[i], ref[i], what, 1e-4, 1e-5));

    await tf.setBackend('cpu');
    const xs = inputs(1);
    const f = ([x, g, b]: tf.Tensor[]) => trainingBatchNorm(x, g, b);
    ['dx', 'dgamma', 'dbeta'].forEach((what, i) => {
      const fd = finiteDifferences(f, xs, r, i, someEntries(xs[i].size, 5), 1e-2);
      assertMatchesFiniteDifferences(got[i + 1], fd, what, 1e-2, 2e-3);
    });
    tf.dispose(xs);
  });
}

test('inference-mode batch norm (fixed statistics) forward and gradients on wasm match cpu', async () => {
  const shape = [2, 3, 5, 7];
  const run = (backend: string, paramShape: number[]) => on(backend, () => {
    const x = randomTensor(shape, 5);
    const mean = randomTensor(paramShape, 6);
    const variance = tf.add(tf.abs(randomTensor(paramShape, 7)), 0.3);
    const scale = randomTensor(paramShape, 8);
    const offset = randomTensor(paramShape, 9);
    const f = (a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => tf.sum(tf.square(tf.batchNorm(a, mean, variance, o, s, 0.01)));
    return [
      tf.batchNorm(x, mean, variance, offset, scale, 0.01),
      tf.batchNorm(x, mean, variance),
      ...tf.grads(f)([x, scale, offset]),
    ];
  });
  const ref = await run('cpu', [7]);
  const got = await run('wasm', [7]);
  ['y', 'y without scale and offset', 'dx', 'dscale', 'doffset'].forEach((what, i) => assertClose(got[i], ref[i], what));
  // The stock gradient cannot reshape its sums to rank-4 parameters, so only the
  // forward pass is compared for them.
  const forward = (backend: string) => on(backend, () => tf.batchNorm(
    randomTensor(shape, 5), randomTensor([1, 1, 1, 7], 6), tf.add(tf.abs(randomTensor([1, 1, 1, 7], 7)), 0.3),
    randomTensor([1, 1, 1, 7], 9), randomTensor([1, 1, 1, 7], 8), 0.01));
  assertClose((await forward('wasm'))[0], (await forward('cpu'))[0], 'y with rank-4 parameters');
});

test('batch norm with full-shape statistics falls back to the stock kernels', async () => {
  const run = (backend: string) => on(backend, () => {
    const x = randomTensor([2, 3, 4], 1);
    const mean = randomTensor([2, 3, 4], 2);
    const variance = tf.add(tf.abs(randomTensor([2, 3, 4], 3)), 0.5);
    const scale = randomTensor([2, 3, 4], 4);
    const offset = randomTensor([2, 3, 4], 5);
    const f = (a: tf.Tensor) => tf.sum(tf.square(tf.batchNorm(a, mean, variance, offset, scale)));
    return [tf.batchNorm(x, mean, variance, offset, scale), tf.grad(f)(x)];
  });
  const ref = await run('cpu');
  const got = await run('wasm');
  assertClose(got[0], ref[0], 'y');
  assertClose(got[1], ref[1], 'dx');
});
