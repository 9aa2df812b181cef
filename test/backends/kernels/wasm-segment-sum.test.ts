import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { registerCpuTrainingKernels } from '../../../src/backends/kernels/cpu';
import { assertClose, on, randomTensor } from './helpers';

registerWasmTrainingKernels();

test('Gather (axis 0 and others), UnsortedSegmentSum and the Gather (embedding) gradient on wasm match cpu, repeated and out-of-range ids included', async () => {
  const run = (backend: string) => on(backend, () => {
    const x = randomTensor([7, 3, 2], 1);
    const ids = tf.tensor1d([2, 0, 2, 5, -1, 1, 2], 'int32');
    const table = randomTensor([6, 4], 2);
    const lookups = tf.tensor2d([[0, 3, 3], [5, 0, 1]], [2, 3], 'int32');
    return [
      tf.gather(table, lookups),
      tf.gather(x, tf.tensor1d([6, 0, 0, 3], 'int32')),
      tf.gather(x, tf.tensor1d([1, 0], 'int32'), 1),
      tf.unsortedSegmentSum(x, ids, 5),
      tf.unsortedSegmentSum(tf.cast(tf.mul(x, 10), 'int32'), ids, 6),
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, lookups), randomTensor([2, 3, 4], 3))))(table),
    ];
  });
  const ref = await run('cpu');
  const got = await run('wasm');
  ref.forEach((r, i) => assertClose(got[i], r, `case ${i}`));
});

test('the one-pass UnsortedSegmentSum on cpu matches the stock reference (tf ops per segment)', async () => {
  const x = randomTensor([9, 4], 4);
  const ids = tf.tensor1d([3, 0, 3, 7, -2, 1, 3, 0, 9], 'int32');
  // The reference: a masked sum per segment, in ops.
  const ref = tf.stack(Array.from({ length: 8 }, (_, s) => tf.sum(tf.mul(x, tf.expandDims(tf.cast(tf.equal(ids, s), 'float32'), 1)), 0)));
  registerCpuTrainingKernels();
  const got = await on('cpu', () => [tf.unsortedSegmentSum(x, ids, 8)]);
  assertClose(got[0], await ref.data() as Float32Array, 'cpu segment sum');
});
