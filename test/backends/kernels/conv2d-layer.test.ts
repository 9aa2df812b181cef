import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { registerCpuTrainingKernels } from '../../../src/backends/kernels/cpu';
import { CONV2D_LAYER } from '../../../src/backends/kernels/conv2d-layer';
import { conv2d, TrainingConv2D } from '../../../src/models/layers/conv2d';
import { assertClose, countCalls, layerLossAndGradients, values } from './helpers';

registerWasmTrainingKernels();
registerCpuTrainingKernels();

const cases = [
  { size: 8, channels: 8, filters: 8, kernelSize: 3, strides: 1, padding: 'same' as const, useBias: true },
  { size: 9, channels: 3, filters: 16, kernelSize: 3, strides: 2, padding: 'same' as const, useBias: false },
  { size: 10, channels: 4, filters: 8, kernelSize: 1, strides: 2, padding: 'valid' as const, useBias: true },
  { size: 11, channels: 3, filters: 8, kernelSize: 7, strides: 2, padding: 'same' as const, useBias: false },
  { size: 8, channels: 8, filters: 8, kernelSize: 3, strides: 1, padding: 'same' as const, useBias: true, activation: 'relu' as const },
];

for (const backend of ['wasm', 'cpu']) {
  test(`the Conv2D layer on ${backend} trains through MtlConv2DLayer to the stock layer's loss and gradients, and saves as 'Conv2D'`, async () => {
    await tf.setBackend(backend);
    for (const c of cases) {
      const args = { filters: c.filters, kernelSize: c.kernelSize, strides: c.strides, padding: c.padding, useBias: c.useBias, activation: 'activation' in c ? c.activation : undefined };
      const stock = tfl.layers.conv2d(args);
      const ours = conv2d(args);
      for (const layer of [stock, ours]) layer.build([null, c.size, c.size, c.channels]);
      const weights = stock.getWeights().map((w, i) => tf.tensor(values(w.size, 3 + i), w.shape));
      stock.setWeights(weights);
      ours.setWeights(weights);
      const x = tf.tensor(values(2 * c.size * c.size * c.channels, 7), [2, c.size, c.size, c.channels]);
      let got: Float32Array[] = [];
      assert.equal(await countCalls(CONV2D_LAYER, backend, () => void (got = layerLossAndGradients(ours, x))), 1, `${backend} ${JSON.stringify(c)}: one MtlConv2DLayer`);
      const want = layerLossAndGradients(stock, x);
      ['loss', 'dx', 'dkernel', 'dbias'].slice(0, want.length).forEach((name, i) => assertClose(got[i], want[i], `${backend} ${JSON.stringify(c)}: ${name}`, 1e-4, 1e-5));
      assert.equal(await countCalls(CONV2D_LAYER, backend, () => void tf.dispose(ours.apply(x) as tf.Tensor)), 0, 'inference takes the stock path');
      assert.equal(ours.getClassName(), 'Conv2D');
      assert.ok(ours instanceof TrainingConv2D);
    }
  });
}

test("a network's first convolution takes no input gradient when only the weights are differentiated", async () => {
  await tf.setBackend('wasm');
  const input = tfl.input({ shape: [8, 8, 3] });
  const first = conv2d({ filters: 8, kernelSize: 3, padding: 'same' }).apply(input) as tfl.SymbolicTensor;
  const second = conv2d({ filters: 8, kernelSize: 3, padding: 'same' }).apply(first) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: second });
  const x = tf.tensor(values(2 * 8 * 8 * 3, 5), [2, 8, 8, 3]);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let filterGrads = 0;
  const inputGrads = await countCalls('Conv2DBackpropInput', 'wasm', async () => {
    filterGrads = await countCalls('Conv2DBackpropFilter', 'wasm', () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, vars);
      tf.dispose([value, ...Object.values(grads)]);
    });
  });
  assert.equal(filterGrads, 2, 'both filters');
  assert.equal(inputGrads, 1, 'only the second layer passes a gradient back');
});
