import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { padImage } from '../../../src/backends/kernels/wasm/pad';
import { asWasm } from '../../../src/backends/kernels/wasm/backend';
import { assertClose, on, randomTensor } from './helpers';

registerWasmTrainingKernels();

test('MaxPoolGrad on wasm matches cpu (first maximum, negative windows, ties, padding)', async () => {
  const cases: [number[], number, number, 'same' | 'valid'][] = [
    [[3, 9, 7, 5], 3, 2, 'valid'], [[2, 8, 8, 8], 3, 2, 'same'], [[1, 6, 5, 12], 2, 1, 'same'], [[3, 7, 9, 3], 3, 1, 'valid'],
  ];
  for (const [shape, size, stride, pad] of cases) {
    const run = (backend: string) => on(backend, () => {
      // relu'd values (many tied zeros) and all-negative inputs
      const xs = [tf.relu(randomTensor(shape, 1)), tf.sub(tf.mul(randomTensor(shape, 2), 0.5), 1)];
      return xs.map((x) => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, size, stride, pad), 3)))(x));
    });
    const ref = await run('cpu');
    const got = await run('wasm');
    assertClose(got[0], ref[0], `relu'd ${shape} ${size}/${stride} ${pad}`);
    assertClose(got[1], ref[1], `negative ${shape} ${size}/${stride} ${pad}`);
  }
});

test('Slice and the zeroPadding gradient on wasm match cpu', async () => {
  const run = (backend: string) => on(backend, () => {
    const x = randomTensor([3, 8, 7, 5], 1);
    const y = randomTensor([4, 9], 2);
    return [
      tf.slice(x, [0, 1, 1, 0], [3, 6, 5, 5]), tf.slice(x, [1, 0, 0, 0], [2, 8, 7, 5]), tf.slice(x, [0, 2, 0, 1], [3, 3, 7, 3]),
      tf.slice(y, [1, 2], [2, 5]), tf.slice(tf.cast(x, 'int32'), [0, 1, 2, 0], [2, 3, 4, 5]),
      tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.pad(a, [[0, 0], [2, 1], [1, 3], [0, 0]]))))(x),
    ];
  });
  const ref = await run('cpu');
  const got = await run('wasm');
  ref.forEach((r, i) => assertClose(got[i], r, `slice ${i}`));
});

test('BatchMatMul with transposed operands on wasm matches cpu', async () => {
  const run = (backend: string) => on(backend, () => {
    const a = randomTensor([7, 5], 1);
    const b = randomTensor([7, 6], 2);
    const c = randomTensor([6, 5], 3);
    const a3 = randomTensor([2, 7, 5], 4);
    const b3 = randomTensor([2, 7, 6], 5);
    return [tf.matMul(a, b, true, false), tf.matMul(a, c, false, true), tf.matMul(b, a, true, false), tf.matMul(c, b, true, true),
      tf.matMul(a3, b3, true, false), tf.matMul(randomTensor([1, 7, 5], 6), randomTensor([1, 6, 5], 7), false, true)];
  });
  const ref = await run('cpu');
  const got = await run('wasm');
  ref.forEach((r, i) => assertClose(got[i], r, `matmul ${i}`));
});

test('PadV2 on wasm matches cpu (spatial zero padding, and the cases left to the stock kernel)', async () => {
  const run = (backend: string) => on(backend, () => {
    const x = randomTensor([2, 5, 4, 3], 1);
    return [
      tf.pad(x, [[0, 0], [3, 3], [3, 3], [0, 0]]), tf.pad(x, [[0, 0], [0, 2], [1, 0], [0, 0]]), tf.pad(x, [[0, 0], [0, 0], [0, 0], [0, 0]]),
      tf.pad(x, [[1, 0], [1, 1], [0, 0], [0, 2]]), tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], 2), tf.pad(randomTensor([3, 4], 2), [[1, 2], [0, 1]]),
    ];
  });
  const ref = await run('cpu');
  const got = await run('wasm');
  ref.forEach((r, i) => assertClose(got[i], r, `pad ${i}`));
});

test('PadV2 on wasm writes every border byte: zeros on a heap that held NaNs, pads on some sides or all', async () => {
  const cases: [number, number][][] = [
    [[0, 0], [1, 1], [1, 1], [0, 0]], [[0, 0], [0, 1], [0, 1], [0, 0]], [[0, 0], [1, 0], [1, 0], [0, 0]], [[0, 0], [2, 0], [0, 3], [0, 0]],
  ];
  for (const paddings of cases) {
    const run = (backend: string) => on(backend, () => {
      const x = randomTensor([3, 5, 4, 6], 7);
      // Freed blocks of NaN where the padded output may be placed.
      for (let i = 0; i < 4; i++) tf.dispose(tf.fill([3 * 9 * 9 * 6 * (i + 1)], NaN));
      return [tf.pad(x, paddings)];
    });
    const ref = await run('cpu');
    const got = await run('wasm');
    assertClose(got[0], ref[0], `pad ${JSON.stringify(paddings)}`);
  }
});

test('the padded copy of images without rows is all border: zeros, on a heap that held NaNs', async () => {
  await tf.setBackend('wasm');
  const wasm = asWasm(tf.backend());
  for (const shape of [[2, 0, 3, 4], [2, 3, 0, 4]]) {
    tf.tidy(() => {
      for (let i = 0; i < 4; i++) tf.dispose(tf.fill([2 * 5 * 5 * 4 * (i + 1)], NaN));
      const x = tf.zeros(shape);
      const out = padImage(wasm, x, { top: 1, bottom: 1, left: 1, right: 1 });
      const values = wasm.readSync(out.dataId) as Float32Array;
      if (values.length === 0 || values.some((v) => v !== 0)) throw new Error(`${shape}: ${values.length} values, not all 0`);
      wasm.disposeData(out.dataId);
    });
  }
});
