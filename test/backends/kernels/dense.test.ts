import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { registerCpuTrainingKernels } from '../../../src/backends/kernels/cpu';
import { DENSE, DENSE_GRAD, denseLayerOp, type DenseActivation } from '../../../src/backends/kernels/dense';
import { dense, FusedDense } from '../../../src/models/layers/dense';
import { assertClose, countCalls, randomTensor, values } from './helpers';

registerWasmTrainingKernels();
registerCpuTrainingKernels();

/** y, dx, dW, db of sum(act(x·W + b) · r) from stock tfjs ops on the cpu backend. */
async function reference(n: number, k: number, m: number, activation: DenseActivation, bias: boolean): Promise<Float32Array[]> {
  await tf.setBackend('cpu');
  return tf.tidy(() => {
    const [x, w, b, r] = operands(n, k, m);
    const f = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => {
      const z = bias ? tf.add(tf.matMul(xi, wi), bi) : tf.matMul(xi, wi);
      return activation === 'relu' ? tf.relu(z) : z;
    };
    const y = f(x, w, b);
    const grads = tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(f(t[0], t[1], t[2]), r)))(bias ? [x, w, b] : [x, w]);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

function operands(n: number, k: number, m: number): tf.Tensor[] {
  return [randomTensor([n, k], 1), randomTensor([k, m], 2), randomTensor([m], 3), randomTensor([n, m], 4)];
}

/** The same through MtlDense / MtlDenseGrad on `backend`, each kernel called once. */
async function fused(backend: string, n: number, k: number, m: number, activation: DenseActivation, bias: boolean): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  let out: Float32Array[] = [];
  const forwardCalls = await countCalls(DENSE, backend, async () => {
    const gradCalls = await countCalls(DENSE_GRAD, backend, () => {
      out = tf.tidy(() => {
        const [x, w, b, r] = operands(n, k, m);
        const f = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => denseLayerOp(xi as tf.Tensor2D, wi as tf.Tensor2D, bias ? (bi as tf.Tensor1D) : undefined, activation);
        const y = tf.tidy(() => f(x, w, b));
        const inputs = bias ? [x, w, b] : [x, w];
        const grads = tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(f(t[0], t[1], t[2]), r)))(inputs);
        return [y, ...grads].map((t) => t.dataSync() as Float32Array);
      });
    });
    assert.equal(gradCalls, 1, 'one MtlDenseGrad');
  });
  assert.equal(forwardCalls, 2, 'one MtlDense per forward pass');
  return out;
}

// Columns and rows that are not multiples of the 4 x 8 register tile, a single row, bias or none.
const shapes: [number, number, number][] = [[256, 8, 64], [7, 5, 3], [13, 64, 1], [5, 12, 10], [1, 3, 9], [33, 16, 4]];

for (const backend of ['wasm', 'cpu']) {
  for (const activation of ['linear', 'relu'] as const) {
    test(`MtlDense and MtlDenseGrad on ${backend} (${activation}) equal stock matMul, add and relu, with their gradients`, async () => {
      for (const [n, k, m] of shapes) {
        for (const bias of [true, false]) {
          const want = await reference(n, k, m, activation, bias);
          const got = await fused(backend, n, k, m, activation, bias);
          const what = `${backend} ${n}x${k}x${m} ${activation}${bias ? ' bias' : ''}`;
          ['y', 'dx', 'dW', 'db'].slice(0, want.length).forEach((name, i) => assertClose(got[i], want[i], `${what}: ${name}`, 1e-5, 1e-5));
        }
      }
    });
  }
}

for (const backend of ['wasm', 'cpu']) {
  test(`the Dense layer on ${backend} trains through the kernels to the stock layer's gradients, infers through the stock path, and saves as 'Dense'`, async () => {
    await tf.setBackend(backend);
    for (const activation of ['relu', 'linear', 'tanh'] as const) {
      const stock = tfl.layers.dense({ units: 6, activation, name: `stock_${activation}` });
      const ours = dense({ units: 6, activation, name: `ours_${activation}` });
      const x = tf.tensor(values(10 * 5, 7), [10, 5]);
      for (const layer of [stock, ours]) layer.build([null, 5]);
      ours.setWeights(stock.getWeights());
      const run = (layer: tfl.layers.Layer) => {
        const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(layer.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, vars);
        return [value, ...vars.map((v) => grads[v.name])].map((t) => t.dataSync() as Float32Array);
      };
      let got: Float32Array[] = [];
      const calls = await countCalls(DENSE, backend, () => {
        got = run(ours);
      });
      assert.equal(calls, activation === 'tanh' ? 0 : 1, `${activation}: MtlDense calls`);
      run(stock).forEach((want, i) => assertClose(got[i], want, `${backend} ${activation} ${i}`, 1e-5, 1e-5));
      assert.equal(await countCalls(DENSE, backend, () => void tf.dispose(ours.apply(x) as tf.Tensor)), 0, 'inference takes the stock path');
      assert.equal(ours.getClassName(), 'Dense');
      assert.ok(ours instanceof FusedDense);
    }
  });
}
