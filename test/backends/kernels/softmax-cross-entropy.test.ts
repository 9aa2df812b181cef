import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { registerCpuTrainingKernels } from '../../../src/backends/kernels/cpu';
import {
  SOFTMAX_CROSS_ENTROPY, SOFTMAX_CROSS_ENTROPY_GRAD, softmaxCrossEntropyOp,
} from '../../../src/backends/kernels/softmax-cross-entropy';
import { assertClose, countCalls, values } from './helpers';

registerWasmTrainingKernels();
registerCpuTrainingKernels();

function operands(n: number, c: number, scale: number): { z: tf.Tensor2D; labels: tf.Tensor1D; r: tf.Tensor1D } {
  const z = tf.tensor2d(values(n * c, 11).map((v) => v * scale), [n, c]);
  const labels = tf.tensor1d(Int32Array.from({ length: n }, (_, i) => (i * 7) % c), 'int32');
  return { z, labels, r: tf.tensor1d(values(n, 12)) };
}

/** Losses and d(sum(losses · r))/dlogits from tfjs's own softmaxCrossEntropy on cpu. */
async function reference(n: number, c: number, scale: number, smoothing: number): Promise<Float32Array[]> {
  await tf.setBackend('cpu');
  return tf.tidy(() => {
    const { z, labels, r } = operands(n, c, scale);
    const f = (logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, c), logits, undefined, smoothing, tf.Reduction.NONE);
    return [f(z), tf.grad((logits: tf.Tensor) => tf.sum(tf.mul(f(logits), r)))(z)].map((t) => t.dataSync() as Float32Array);
  });
}

for (const backend of ['wasm', 'cpu']) {
  test(`MtlSoftmaxCrossEntropy and its gradient on ${backend} equal tfjs's softmaxCrossEntropy (label smoothing, large logits), one kernel each`, async () => {
    for (const [n, c, scale] of [[256, 3, 3], [5, 10, 1], [4, 2, 1e4]]) {
      for (const smoothing of [0, 0.1]) {
        const want = await reference(n, c, scale, smoothing);
        await tf.setBackend(backend);
        let got: Float32Array[] = [];
        const forward = await countCalls(SOFTMAX_CROSS_ENTROPY, backend, async () => {
          const backward = await countCalls(SOFTMAX_CROSS_ENTROPY_GRAD, backend, () => {
            got = tf.tidy(() => {
              const { z, labels, r } = operands(n, c, scale);
              const f = (logits: tf.Tensor) => softmaxCrossEntropyOp(logits as tf.Tensor2D, labels, smoothing);
              return [f(z), tf.grad((logits: tf.Tensor) => tf.sum(tf.mul(f(logits), r)))(z)].map((t) => t.dataSync() as Float32Array);
            });
          });
          assert.equal(backward, 1);
        });
        assert.equal(forward, 2);
        const what = `${backend} ${n}x${c} scale ${scale} smoothing ${smoothing}`;
        assertClose(got[0], want[0], `${what}: losses`, 1e-5, 1e-5);
        assertClose(got[1], want[1], `${what}: dlogits`, 1e-5, 1e-6);
      }
    }
  });
}
