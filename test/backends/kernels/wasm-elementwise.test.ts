import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { assertClose, countCalls, on, randomTensor } from './helpers';

registerWasmTrainingKernels();

test('per-channel Mean and Sum on wasm match cpu; other reductions still work', async () => {
  const run = (backend: string) => on(backend, () => {
    const x = randomTensor([3, 5, 7, 6], 1);
    const y = randomTensor([300, 9], 2);
    return [
      tf.mean(x, [0, 1, 2]), tf.sum(x, [2, 0, 1], true), tf.mean(y, 0), tf.sum(y, 0),
      tf.mean(x, [1, 2]), tf.sum(x, -1), tf.mean(x), tf.sum(tf.cast(x, 'int32'), [0, 1, 2]),
    ];
  });
  const ref = await run('cpu');
  const got = await run('wasm');
  ref.forEach((r, i) => assertClose(got[i], r, `reduction ${i}`));
});

test('channel-broadcast Multiply/Add/Sub/RealDiv on wasm match cpu in both operand orders', async () => {
  const cases: [number[], number[]][] = [
    [[4, 3, 5], [5]], [[2, 3, 4, 8], [1, 1, 1, 8]], [[6, 12], [1, 12]], [[2, 3, 3, 13], [13]],
    [[2, 3, 3, 8], [1, 3, 1, 8]], [[3, 4], []], [[3, 4], [3, 4]], [[3, 1], [1, 4]],
  ];
  for (const [a, b] of cases) {
    const run = (backend: string) => on(backend, () => {
      const x = randomTensor(a, 3);
      const v = tf.add(tf.abs(randomTensor(b, 4)), 0.5);
      return [tf.mul(x, v), tf.mul(v, x), tf.add(x, v), tf.add(v, x), tf.sub(x, v), tf.sub(v, x), tf.div(x, v), tf.div(v, x)];
    });
    const ref = await run('cpu');
    const got = await run('wasm');
    ref.forEach((r, i) => assertClose(got[i], r, `${a} with ${b}, op ${i}`, 1e-5));
  }
});

test('Identity and same-dtype Cast share memory on wasm and release it', async () => {
  await tf.setBackend('wasm');
  const before = tf.memory().numDataBuffers;
  const x = tf.tensor([1, 2, 3]);
  const y = tf.clone(x);
  const z = tf.cast(x, 'float32');
  const i = tf.cast(x, 'int32');
  assert.equal(tf.memory().numDataBuffers, before + 2);
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3]);
  assert.deepEqual(Array.from(z.dataSync()), [1, 2, 3]);
  assert.equal(i.dtype, 'int32');
  tf.dispose([y, z, i]);
  assert.equal(tf.memory().numDataBuffers, before);
});

test('Mean and Sum gradients on wasm use MtlRepeat and match cpu', async () => {
  const run = (backend: string) => on(backend, () => {
    const x = randomTensor([3, 4, 5, 6], 5);
    const w = randomTensor([3, 4, 5, 6], 6);
    const losses = [
      (a: tf.Tensor) => tf.sum(tf.mul(tf.mean(tf.mul(a, w), [0, 1, 2]), tf.range(0, 6))),
      (a: tf.Tensor) => tf.sum(tf.square(tf.mean(tf.mul(a, w), [1, 2]))),
      (a: tf.Tensor) => tf.sum(tf.square(tf.sum(tf.mul(a, w), [0, 1], true))),
      (a: tf.Tensor) => tf.square(tf.mean(tf.mul(a, w))),
      (a: tf.Tensor) => tf.sum(tf.square(tf.mean(tf.mul(a, w), [0, 2]))),
    ];
    return losses.map((f) => tf.grad(f)(x));
  });
  const ref = await run('cpu');
  let got: Float32Array[] = [];
  const calls = await countCalls('MtlRepeat', 'wasm', async () => { got = await run('wasm'); });
  assert.ok(calls >= 4, 'contiguous reductions broadcast their gradient with MtlRepeat');
  ref.forEach((r, i) => assertClose(got[i], r, `gradient ${i}`));
});
