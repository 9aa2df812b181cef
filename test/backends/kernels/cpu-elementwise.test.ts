import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerCpuTrainingKernels } from '../../../src/backends/kernels/cpu';
import { stockKernel } from '../../../src/backends/kernels/register';
import { assertClose, randomTensor } from './helpers';

registerCpuTrainingKernels();

function stock(name: string, inputs: Record<string, tf.Tensor>, attrs: object): Float32Array {
  const info = stockKernel(name, 'cpu')({ inputs, backend: tf.backend(), attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
  const t = tf.engine().makeTensorFromTensorInfo(info);
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

function ours(name: string, inputs: Record<string, tf.Tensor>, attrs: object): Float32Array {
  const t = tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

test('Mean and Sum on cpu match the stock kernels (per-channel and other axes)', async () => {
  await tf.setBackend('cpu');
  const x = randomTensor([3, 5, 7, 6], 1);
  for (const name of ['Mean', 'Sum']) {
    for (const attrs of [{ axis: [0, 1, 2], keepDims: false }, { axis: [2, 1, 0], keepDims: true }, { axis: [1, 2], keepDims: false }, { axis: -1, keepDims: false }]) {
      assertClose(ours(name, { x }, attrs), stock(name, { x }, attrs), `${name} ${JSON.stringify(attrs)}`);
    }
  }
  x.dispose();
});

test('Multiply/Add/Sub/RealDiv on cpu match the stock kernels (same shape, channel broadcast both ways, other)', async () => {
  await tf.setBackend('cpu');
  const cases: [number[], number[]][] = [
    [[4, 3, 5], [4, 3, 5]], [[4, 3, 5], [5]], [[2, 3, 4, 8], [1, 1, 1, 8]], [[2, 3, 3, 13], [13]], [[2, 3, 3, 8], [1, 3, 1, 8]], [[3, 4], []],
  ];
  for (const [as, bs] of cases) {
    const a = randomTensor(as, 3);
    const b = tf.add(tf.abs(randomTensor(bs, 4)), 0.5);
    for (const name of ['Multiply', 'Add', 'Sub', 'RealDiv']) {
      assertClose(ours(name, { a, b }, {}), stock(name, { a, b }, {}), `${name} ${as} ${bs}`, 1e-6);
      assertClose(ours(name, { a: b, b: a }, {}), stock(name, { a: b, b: a }, {}), `${name} ${bs} ${as}`, 1e-6);
    }
    tf.dispose([a, b]);
  }
});

test('Relu and Step on cpu match the stock kernels, NaN included', async () => {
  await tf.setBackend('cpu');
  const x = tf.concat([randomTensor([50], 5), tf.tensor([NaN, 0, -0, 3])]);
  assertClose(ours('Relu', { x }, {}), stock('Relu', { x }, {}), 'relu');
  for (const alpha of [0, 0.2]) assertClose(ours('Step', { x }, { alpha }), stock('Step', { x }, { alpha }), `step ${alpha}`);
  x.dispose();
});

test('PadV2 on cpu matches the stock kernel', async () => {
  await tf.setBackend('cpu');
  const x = randomTensor([2, 5, 4, 3], 1);
  for (const paddings of [[[0, 0], [3, 3], [3, 3], [0, 0]], [[0, 0], [0, 2], [1, 0], [0, 0]], [[1, 0], [1, 1], [0, 0], [0, 2]]]) {
    for (const constantValue of [0, 2]) {
      const attrs = { paddings, constantValue };
      assertClose(ours('PadV2', { x }, attrs), stock('PadV2', { x }, attrs), JSON.stringify(attrs));
    }
  }
  x.dispose();
});
