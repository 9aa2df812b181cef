import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { registerCpuTrainingKernels } from '../../../src/backends/kernels/cpu';
import { RELU_GRAD } from '../../../src/backends/kernels/relu-grad';
import { conv1d, FusedConv1D } from '../../../src/models/layers/conv1d';
import { assertClose, countCalls, layerLossAndGradients, values } from './helpers';

registerWasmTrainingKernels();
registerCpuTrainingKernels();

// Text-cnn's layer, odd widths, stride 2, 'valid' padding; relu, linear, and tanh (stock path).
const cases: { width: number; channels: number; filters: number; kernelSize: number; strides: number; padding: 'same' | 'valid'; useBias?: boolean }[] = [
  { width: 32, channels: 16, filters: 16, kernelSize: 3, strides: 1, padding: 'same' },
  { width: 17, channels: 8, filters: 12, kernelSize: 3, strides: 1, padding: 'same' },
  { width: 20, channels: 8, filters: 8, kernelSize: 5, strides: 2, padding: 'valid' },
  { width: 16, channels: 8, filters: 8, kernelSize: 3, strides: 1, padding: 'same', useBias: false },
];

for (const backend of ['wasm', 'cpu']) {
  test(`the Conv1D layer on ${backend} trains through one fused convolution to the stock layer's loss and gradients, infers through the stock path, and saves as 'Conv1D'`, async () => {
    await tf.setBackend(backend);
    for (const c of cases) {
      for (const activation of ['relu', 'linear', 'tanh'] as const) {
        const args = { filters: c.filters, kernelSize: c.kernelSize, strides: c.strides, padding: c.padding, useBias: c.useBias ?? true, activation };
        const stock = tfl.layers.conv1d({ ...args, name: `stock_${activation}` });
        const ours = conv1d({ ...args, name: `ours_${activation}` });
        for (const layer of [stock, ours]) layer.build([null, c.width, c.channels]);
        ours.setWeights(stock.getWeights().map((w, i) => (i === 1 ? tf.tensor(values(w.size, 5), w.shape) : w)));
        stock.setWeights(ours.getWeights());
        const x = tf.tensor(values(3 * c.width * c.channels, 7), [3, c.width, c.channels]);
        const what = `${backend} ${JSON.stringify(c)} ${activation}`;
        let got: Float32Array[] = [];
        const fused = await countCalls('FusedConv2D', backend, () => {
          got = layerLossAndGradients(ours, x);
        });
        assert.equal(fused, activation === 'tanh' ? 0 : 1, `${what}: FusedConv2D calls`);
        const want = layerLossAndGradients(stock, x);
        ['loss', 'dx', 'dkernel', 'dbias'].slice(0, want.length).forEach((name, i) => assertClose(got[i], want[i], `${what}: ${name}`, 1e-4, 1e-5));
        assert.equal(await countCalls('FusedConv2D', backend, () => void tf.dispose(ours.apply(x) as tf.Tensor)), 0, 'inference takes the stock path');
        assert.equal(ours.getClassName(), 'Conv1D');
        assert.ok(ours instanceof FusedConv1D);
        tf.dispose(x);
      }
    }
  });
}

test('the relu of the fused Conv1D is differentiated by MtlReluGrad, once', async () => {
  await tf.setBackend('wasm');
  const layer = conv1d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' });
  layer.build([null, 16, 8]);
  const x = tf.tensor(values(2 * 16 * 8, 3), [2, 16, 8]);
  assert.equal(await countCalls(RELU_GRAD, 'wasm', () => void layerLossAndGradients(layer, x)), 1);
});
