import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerCpuTrainingKernels } from '../../../src/backends/kernels/cpu';
import { conv2dConfig, fusedConv2dConfig } from '../../../src/backends/kernels/cpu/conv2d';
import { conv2dBackpropFilterConfig } from '../../../src/backends/kernels/cpu/conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from '../../../src/backends/kernels/cpu/conv2d-backprop-input';
import { stockKernel } from '../../../src/backends/kernels/register';
import { CONV_CASES, ConvCase, describeCase, outShape } from './conv-cases';
import {
  assertClose, assertMatchesFiniteDifferences, finiteDifferences, on, randomTensor, someEntries, values,
} from './helpers';

registerCpuTrainingKernels();
registerCpuTrainingKernels();

/** Runs the cpu backend's own (stock) kernel that the mtl one replaced. */
function stock(name: string, inputs: Record<string, tf.Tensor>, attrs: object): tf.Tensor {
  const info = stockKernel(name, 'cpu')({ inputs, backend: tf.backend(), attrs: attrs as tf.NamedAttrMap });
  return tf.engine().makeTensorFromTensorInfo(info as tf.TensorInfo);
}

const attrs = (c: ConvCase) => ({ strides: c.strides, pad: c.pad, dataFormat: 'NHWC' });

test('registration is idempotent and installs the mtl kernels on cpu', () => {
  for (const config of [conv2dConfig, fusedConv2dConfig, conv2dBackpropFilterConfig, conv2dBackpropInputConfig]) {
    assert.equal(tf.getKernel(config.kernelName, 'cpu')?.kernelFunc, config.kernelFunc, config.kernelName);
  }
});

for (const [k, c] of CONV_CASES.entries()) {
  test(`conv kernels on cpu match the stock cpu kernels and finite differences: ${describeCase(c)}`, async () => {
    const run = (useStock: boolean) => on('cpu', () => {
      const x = randomTensor(c.x, 10 + k);
      const w = randomTensor(c.filter, 20 + k);
      const dy = randomTensor(outShape(c), 30 + k);
      const bias = randomTensor([c.filter[3]], 40 + k);
      const fAttrs = { ...attrs(c), filterShape: c.filter };
      const iAttrs = { ...attrs(c), inputShape: c.x };
      const cAttrs = { ...attrs(c), dilations: 1 };
      if (useStock) {
        return [
          stock('Conv2D', { x, filter: w }, cAttrs),
          stock('FusedConv2D', { x, filter: w, bias }, { ...cAttrs, activation: 'relu' }),
          stock('Conv2DBackpropFilter', { x, dy }, fAttrs),
          stock('Conv2DBackpropInput', { dy, filter: w }, iAttrs),
        ];
      }
      return [
        tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad),
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: c.strides, pad: c.pad, bias, activation: 'relu' }),
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, fAttrs as unknown as tf.NamedAttrMap) as tf.Tensor,
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, iAttrs as unknown as tf.NamedAttrMap) as tf.Tensor,
      ];
    });
    const ours = await run(false);
    const ref = await run(true);
    ['conv2d', 'fused conv2d', 'filter gradient', 'input gradient'].forEach((what, i) => assertClose(ours[i], ref[i], what));

    const x = randomTensor(c.x, 10 + k);
    const w = randomTensor(c.filter, 20 + k);
    const r = values(outShape(c).reduce((a, b) => a * b, 1), 30 + k);
    const f = ([xi, wi]: tf.Tensor[]) => stock('Conv2D', { x: xi, filter: wi }, { ...attrs(c), dilations: 1 });
    assertMatchesFiniteDifferences(ours[2], finiteDifferences(f, [x, w], r, 1, someEntries(w.size, 6), 0.5), 'dW', 1e-3, 1e-4);
    assertMatchesFiniteDifferences(ours[3], finiteDifferences(f, [x, w], r, 0, someEntries(x.size, 6), 0.5), 'dx', 1e-3, 1e-4);
    tf.dispose([x, w]);
  });
}

test('dilated and explicitly padded Conv2D on cpu match the stock kernel', async () => {
  await tf.setBackend('cpu');
  const x = randomTensor([2, 9, 8, 5], 1);
  const w = randomTensor([3, 3, 5, 6], 2);
  for (const a of [
    { strides: 1, pad: 'same', dilations: 2, dataFormat: 'NHWC' },
    { strides: 2, pad: [[0, 0], [2, 1], [0, 3], [0, 0]], dilations: 1, dataFormat: 'NHWC' },
  ]) {
    const ours = tf.engine().runKernel('Conv2D', { x, filter: w }, a as unknown as tf.NamedAttrMap) as tf.Tensor;
    const ref = stock('Conv2D', { x, filter: w }, a);
    assertClose(ours.dataSync(), ref.dataSync(), JSON.stringify(a));
    tf.dispose([ours, ref]);
  }
  tf.dispose([x, w]);
});
