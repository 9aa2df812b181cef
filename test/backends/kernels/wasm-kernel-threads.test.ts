import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { asWasm, wasmMemory } from '../../../src/backends/kernels/wasm/backend';
import { batchShares, kernelPool, startKernelPool } from '../../../src/backends/kernels/wasm/kernel-pool';
import { isShared } from '../../../src/backends/kernels/wasm/simd/emit';
import { startSharedHeapWasm } from '../../../src/backends/wasm-shared-heap';
import { CONV_CASES, ConvCase, describeCase, outShape, WINOGRAD_1D_CASES } from './conv-cases';
import { assertClose, on, randomTensor } from './helpers';

const attrs = (c: ConvCase) => ({ strides: c.strides, pad: c.pad, dataFormat: 'NHWC' }) as const;
const filterGrad = (c: ConvCase, x: tf.Tensor, dy: tf.Tensor) =>
  tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs(c), filterShape: c.filter } as unknown as tf.NamedAttrMap) as tf.Tensor;
const inputGrad = (c: ConvCase, dy: tf.Tensor, filter: tf.Tensor) =>
  tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { ...attrs(c), inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor;

const started = (async () => {
  assert.ok(await startSharedHeapWasm(tfWasm.setThreadsCount), 'threaded wasm starts');
  startKernelPool(wasmMemory(asWasm(tf.backend())), 2);
  registerWasmTrainingKernels();
})();

test('the threaded wasm build starts under Node with a shared heap and two kernel threads', async () => {
  await started;
  const memory = wasmMemory(asWasm(tf.findBackend('wasm')));
  assert.ok(isShared(memory));
  assert.equal(kernelPool(memory)?.threads, 2);
});

test('batch shares cover the batch once, as evenly as whole images allow', () => {
  assert.deepEqual(batchShares(16, 2), [{ start: 0, count: 8 }, { start: 8, count: 8 }]);
  assert.deepEqual(batchShares(3, 2), [{ start: 0, count: 2 }, { start: 2, count: 1 }]);
  assert.deepEqual(batchShares(1, 4), [{ start: 0, count: 1 }]);
});

// Batches of 3 split 2 + 1, so every kernel also runs with uneven shares.
for (const gather of ['default', 'all'] as const) {
  for (const [k, c] of [...CONV_CASES, ...WINOGRAD_1D_CASES].entries()) {
    test(`conv kernels split over two threads match the cpu backend (gather ${gather}): ${describeCase(c)}`, async () => {
      await started;
      const run = (backend: string) => on(backend, () => {
        const x = randomTensor(c.x, 10 + k);
        const w = randomTensor(c.filter, 20 + k);
        const dy = randomTensor(outShape(c), 30 + k);
        const bias = randomTensor([c.filter[3]], 40 + k);
        return [
          tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad),
          tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: c.strides, pad: c.pad, bias, activation: 'relu' }),
          filterGrad(c, x, dy),
          inputGrad(c, dy, w),
        ];
      });
      const ref = await run('cpu');
      if (gather === 'all') process.env.MTL_GATHER_CONV = 'all';
      try {
        const got = await run('wasm');
        ['conv2d', 'fused conv2d', 'filter gradient', 'input gradient'].forEach((what, i) => assertClose(got[i], ref[i], what));
      } finally {
        delete process.env.MTL_GATHER_CONV;
      }
    });
  }
}
