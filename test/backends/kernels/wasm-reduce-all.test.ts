import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { assertClose, on, randomTensor } from './helpers';

registerWasmTrainingKernels();

test('Sum and Mean over all axes on wasm (SIMD block sums) match cpu, shapes and keepDims included', async () => {
  const shapes = [[3, 3, 64, 64], [1, 1, 512, 2048], [4096], [7, 300], [3, 5, 7, 6]];
  for (const shape of shapes) {
    const run = (backend: string) => on(backend, () => {
      const g = randomTensor(shape, shape.length);
      return [tf.sum(tf.square(g)), tf.mean(g), tf.sum(g, undefined, true), tf.sum(g, shape.map((_, i) => i).reverse())];
    });
    const ref = await run('cpu');
    const got = await run('wasm');
    ref.forEach((r, i) => assertClose(got[i], r, `${shape} reduction ${i}`, 1e-5, 1e-4));
  }
  await tf.setBackend('wasm');
  const x = randomTensor([2, 32, 32], 1);
  assert.deepEqual(tf.sum(x, undefined, true).shape, [1, 1, 1]);
  assert.deepEqual(tf.mean(x).shape, []);
  x.dispose();
});
