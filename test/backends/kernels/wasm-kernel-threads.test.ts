import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { asWasm, wasmMemory } from '../../../src/backends/kernels/wasm/backend';
import { evenShares, kernelPool, startKernelPool } from '../../../src/backends/kernels/wasm/kernel-pool';
import { isShared } from '../../../src/backends/kernels/wasm/simd/emit';
import { startSharedHeapWasm } from '../../../src/backends/wasm-shared-heap';
import { CONV_CASES, CONV_OUTPUT_NAMES, convKernelOutputs, describeCase, WINOGRAD_1D_CASES } from './conv-cases';
import { assertClose, on, randomTensor } from './helpers';
import { adamUpdate } from '../../../src/backends/kernels/adam';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from '../../../src/backends/kernels/batch-norm';
import { registerCpuTrainingKernels } from '../../../src/backends/kernels/cpu';
import { RELU_GRAD } from '../../../src/backends/kernels/relu-grad';

const started = (async () => {
  assert.ok(await startSharedHeapWasm(tfWasm.setThreadsCount), 'threaded wasm starts');
  startKernelPool(wasmMemory(asWasm(tf.backend())), 2);
  registerWasmTrainingKernels();
  registerCpuTrainingKernels();
})();

test('the threaded wasm build starts under Node with a shared heap and two kernel threads', async () => {
  await started;
  const memory = wasmMemory(asWasm(tf.findBackend('wasm')));
  assert.ok(isShared(memory));
  assert.equal(kernelPool(memory)?.threads, 2);
});

test('batch shares cover the batch once, as evenly as whole images allow', () => {
  assert.deepEqual(evenShares(16, 2), [{ start: 0, count: 8 }, { start: 8, count: 8 }]);
  assert.deepEqual(evenShares(3, 2), [{ start: 0, count: 2 }, { start: 2, count: 1 }]);
  assert.deepEqual(evenShares(1, 4), [{ start: 0, count: 1 }]);
});

// Batches of 3 split 2 + 1, so every kernel also runs with uneven shares.
for (const gather of ['default', 'all'] as const) {
  for (const [k, c] of [...CONV_CASES, ...WINOGRAD_1D_CASES].entries()) {
    test(`conv kernels split over two threads match the cpu backend (gather ${gather}): ${describeCase(c)}`, async () => {
      await started;
      const run = (backend: string) => on(backend, () => convKernelOutputs(c, k));
      const ref = await run('cpu');
      if (gather === 'all') process.env.MTL_GATHER_CONV = 'all';
      try {
        const got = await run('wasm');
        CONV_OUTPUT_NAMES.forEach((what, i) => assertClose(got[i], ref[i], what));
      } finally {
        delete process.env.MTL_GATHER_CONV;
      }
    });
  }
}

/** Runs f on wasm and cpu; asserts they agree and that wasm handed parts to the other thread. */
async function assertSplitMatchesCpu(f: () => tf.Tensor[], names: string[], rtol = 1e-5, atol = 1e-6): Promise<void> {
  await started;
  const ref = await on('cpu', f);
  const pool = kernelPool(wasmMemory(asWasm(tf.findBackend('wasm'))))!;
  const before = pool.handedOver;
  const got = await on('wasm', f);
  assert.ok(pool.handedOver > before, 'the work was split over the threads');
  names.forEach((what, i) => assertClose(got[i], ref[i], what, rtol, atol));
}

test('Adam on a large weight splits over the kernel threads and matches the cpu kernel', async () => {
  await assertSplitMatchesCpu(() => {
    const shape = [300, 1001];
    let [w, m, v] = [randomTensor(shape, 1), tf.zeros(shape), tf.zeros(shape)];
    for (let step = 1; step <= 2; step++) {
      [w, m, v] = adamUpdate(w, randomTensor(shape, 10 + step), m, v, { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step });
    }
    return [w, m, v];
  }, ['w', 'm', 'v']);
});

test('batch norm in training, forward and backward, splits by rows over the kernel threads and matches the cpu kernels', async () => {
  // 16x16x16 rows of 66 channels: the last block of rows is short, and channels are not in fours.
  const shape = [16, 16, 16, 66];
  await assertSplitMatchesCpu(() => {
    const x = tf.add(tf.mul(randomTensor(shape, 1), 3), 2);
    const scale = tf.add(randomTensor([66], 2), 1.5);
    const offset = randomTensor([66], 3);
    const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, scale, offset }, { epsilon: 1.001e-5 }) as tf.Tensor[];
    const grads = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { dy: randomTensor(shape, 4), x, scale, mean, variance }, { epsilon: 1.001e-5 }) as tf.Tensor[];
    return [y, mean, variance, ...grads];
  }, ['y', 'mean', 'variance', 'dx', 'dscale', 'doffset'], 2e-4, 1e-5);
});

test("relu's gradient on a large activation splits over the kernel threads and matches the cpu kernel", async () => {
  await assertSplitMatchesCpu(() => {
    const x = randomTensor([8, 32, 32, 65], 1);
    return [tf.engine().runKernel(RELU_GRAD, { dy: randomTensor([8, 32, 32, 65], 2), x }, {}) as tf.Tensor];
  }, ['dx']);
});
