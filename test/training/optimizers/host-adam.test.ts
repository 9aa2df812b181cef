import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { registerCpuTrainingKernels } from '../../../src/backends/kernels/cpu';
import { HostAdam } from '../../../src/training/optimizers/host-adam';
import { gradientNormSq } from '../../../src/training/optimizers/types';

registerWasmTrainingKernels();
registerCpuTrainingKernels();

for (const backend of ['wasm', 'cpu'] as const) {
  test(`HostAdam.gradNormSq on ${backend}: small gradients summed on the host, large ones by kernels, the same total; NaN stays NaN`, async () => {
    await tf.setBackend(backend);
    assert.equal(tf.getBackend(), backend);
    const adam = new HostAdam({ learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    const grads = { a: tf.tensor([3, 4]), b: tf.fill([70000], 0.5), c: tf.tensor([[1, -2], [2, 0]]) };
    const expected = 9 + 16 + 70000 * 0.25 + 1 + 4 + 4;
    assert.ok(Math.abs(adam.gradNormSq(grads) - expected) <= 1e-6 * expected);
    assert.ok(Math.abs(gradientNormSq(grads) - expected) <= 1e-5 * expected);
    const bad = { a: tf.tensor([1, NaN]) };
    assert.ok(Number.isNaN(adam.gradNormSq(bad)));
    tf.dispose([...Object.values(grads), bad.a]);
    adam.dispose();
  });
}
