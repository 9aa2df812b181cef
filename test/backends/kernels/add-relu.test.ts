import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { registerCpuTrainingKernels } from '../../../src/backends/kernels/cpu';
import { ADD_RELU, addRelu } from '../../../src/backends/kernels/add-relu';
import { countCalls, values } from './helpers';

registerWasmTrainingKernels();
registerCpuTrainingKernels();

for (const backend of ['wasm', 'cpu']) {
  test(`addRelu on ${backend} is one MtlAddRelu kernel with the values of Add then Relu, NaN and infinities included`, async () => {
    await tf.setBackend(backend);
    for (const n of [4 * 257 + 3, 8, 3]) {
      const av = values(n, 1);
      const bv = values(n, 2);
      av[0] = NaN;
      av[1] = Infinity;
      bv[2] = -Infinity;
      const [a, b] = [tf.tensor(av, [n]), tf.tensor(bv, [n])];
      let got: Float32Array = new Float32Array(0);
      const calls = await countCalls(ADD_RELU, backend, () => {
        const y = addRelu(a, b);
        got = y.dataSync() as Float32Array;
        y.dispose();
      });
      assert.equal(calls, 1);
      const want = tf.tidy(() => tf.relu(tf.add(a, b)).dataSync());
      for (let i = 0; i < n; i++) assert.ok(Object.is(got[i], want[i]) || got[i] === want[i], `element ${i}: ${got[i]} vs ${want[i]}`);
      assert.ok(got.some((v) => v > 0) && got.some((v) => v === 0), 'the case has both signs');
      tf.dispose([a, b]);
    }
  });
}

for (const backend of ['wasm', 'cpu']) {
  test(`addRelu on ${backend} with overwriteA writes over a only where no other tensor shares its memory`, async () => {
    await tf.setBackend(backend);
    const n = 4 * 50 + 1;
    const want = tf.tidy(() => tf.relu(tf.add(tf.tensor(values(n, 1)), tf.tensor(values(n, 2)))).dataSync());
    const b = tf.tensor(values(n, 2));
    const a = tf.tensor(values(n, 1));
    const buffers = tf.memory().numDataBuffers;
    const y = addRelu(a, b, true);
    assert.equal(tf.memory().numDataBuffers, buffers, 'the sum took a\'s memory');
    assert.equal(y.dataId, a.dataId);
    assert.deepEqual(Array.from(y.dataSync()), Array.from(want));
    a.dispose();
    y.dispose();
    // A second handle on a's memory (a clone shares it): a keeps its values.
    const a2 = tf.tensor(values(n, 1));
    const keep = tf.clone(a2);
    const before = tf.memory().numDataBuffers;
    const y2 = addRelu(a2, b, true);
    assert.equal(tf.memory().numDataBuffers, before + 1, 'a new block for the sum');
    assert.deepEqual(Array.from(y2.dataSync()), Array.from(want));
    assert.deepEqual(Array.from(keep.dataSync()), Array.from(values(n, 1)));
    tf.dispose([a2, keep, y2, b]);
  });
}
