import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { registerCpuTrainingKernels } from '../../../src/backends/kernels/cpu';
import { RELU_GRAD } from '../../../src/backends/kernels/relu-grad';
import { countCalls, randomTensor, values } from './helpers';

registerWasmTrainingKernels();
registerCpuTrainingKernels();

/** dy · step(x) as the stock gradient computes it, in plain JS. */
function expected(dy: Float32Array, x: Float32Array): Float32Array {
  return dy.map((g, i) => g * (x[i] > 0 ? 1 : Number.isNaN(x[i]) ? NaN : 0));
}

for (const backend of ['wasm', 'cpu']) {
  test(`Relu's gradient on ${backend} is one MtlReluGrad kernel and equals dy * step(x), NaN and infinities included`, async () => {
    await tf.setBackend(backend);
    for (const n of [4 * 257 + 3, 8, 3]) {
      const xv = values(n, 1);
      xv[0] = NaN;
      xv[1] = Infinity;
      xv[2] = -Infinity;
      if (n > 4) xv[3] = 0;
      const dv = values(n, 2);
      if (n > 5) dv[5] = NaN;
      if (n > 6) dv[6] = Infinity;
      const x = tf.tensor(xv);
      const dy = tf.tensor(dv);
      let got: Float32Array = new Float32Array(0);
      const calls = await countCalls(RELU_GRAD, backend, () => {
        const g = tf.grad((t: tf.Tensor) => tf.relu(t))(x, dy);
        got = g.dataSync() as Float32Array;
        g.dispose();
      });
      assert.equal(calls, 1);
      const want = expected(dv, xv);
      for (let i = 0; i < n; i++) assert.ok(Object.is(got[i], want[i]) || got[i] === want[i], `element ${i}: ${got[i]} vs ${want[i]}`);
      tf.dispose([x, dy]);
    }
  });
}

test('a relu layer in a small network trains to the same gradients on wasm as on cpu', async () => {
  const grads = async (backend: string) => {
    await tf.setBackend(backend);
    const x = randomTensor([6, 10], 3);
    const w = tf.variable(randomTensor([10, 7], 4));
    const { grads: g } = tf.variableGrads(() => tf.sum(tf.square(tf.relu(tf.matMul(x, w)))) as tf.Scalar, [w]);
    const out = g[w.name].dataSync() as Float32Array;
    tf.dispose([x, w, g[w.name]]);
    return out;
  };
  const a = await grads('cpu');
  const b = await grads('wasm');
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-4 * (1 + Math.abs(a[i])), `${i}: ${b[i]} vs ${a[i]}`);
});
