import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { registerCpuTrainingKernels } from '../../../src/backends/kernels/cpu';
import { adamUpdate, ADAM } from '../../../src/backends/kernels/adam';
import { maskedPoolKernel, type PoolMode } from '../../../src/backends/kernels/masked-pool';
import { assertClose, on, randomTensor } from './helpers';

registerWasmTrainingKernels();
registerCpuTrainingKernels();

/** Token ids with padding at the end, one text without tokens (row 2) and one full. */
function tokenIds(B: number, T: number): tf.Tensor {
  const ids = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    const length = b === 2 ? 0 : b === 1 ? T : 1 + ((b * 7) % T);
    for (let t = 0; t < length; t++) ids[b * T + t] = 1 + ((b * 31 + t * 17) % 50);
  }
  return tf.tensor2d(ids, [B, T]);
}

/** The pooling in plain tfjs ops, as MaskedPooling composes it on other backends. */
function pooledInOps(x: tf.Tensor, ids: tf.Tensor, mode: PoolMode): tf.Tensor {
  const mask = tf.expandDims(tf.cast(tf.greater(ids, 0), 'float32'), -1);
  if (mode === 'mean') return tf.div(tf.sum(tf.mul(x, mask), 1), tf.maximum(tf.sum(mask, 1), 1));
  const any = tf.cast(tf.greater(tf.sum(mask, 1), 0), 'float32');
  return tf.mul(tf.max(tf.add(x, tf.mul(tf.sub(mask, 1), 1e9)), 1), any);
}

for (const D of [8, 6]) {
  for (const mode of ['mean', 'max'] as const) {
    test(`masked ${mode} pooling (D=${D}) and its gradient on wasm and cpu match tfjs ops; padding and empty texts give nothing`, async () => {
      const B = 5;
      const T = 7;
      const pooled = (kernel: boolean) => () => {
        const x = randomTensor([B, T, D], 3);
        const ids = tokenIds(B, T);
        const r = randomTensor([B, D], 9);
        const pool = (t: tf.Tensor) => (kernel ? maskedPoolKernel(t, ids, mode)! : pooledInOps(t, ids, mode));
        return [pool(x), tf.grad((t: tf.Tensor) => tf.sum(tf.mul(pool(t), r)))(x)];
      };
      const ref = await on('cpu', pooled(false));
      for (const backend of ['wasm', 'cpu']) {
        await tf.setBackend(backend);
        assert.ok(tf.getKernel('MtlMaskedPool', backend), `kernel registered on ${backend}`);
        const got = await on(backend, pooled(true));
        assertClose(got[0], ref[0], `${backend} ${mode} forward`);
        assertClose(got[1], ref[1], `${backend} ${mode} gradient`);
        // The empty text (row 2) pools to zeros and receives no gradient.
        assert.deepEqual(Array.from(got[0].subarray(2 * D, 3 * D)), new Array(D).fill(0));
      }
    });
  }
}

test('MtlAdam on wasm (SIMD, with a scalar tail) and cpu matches the formula in tfjs ops over several steps', async () => {
  const run = (backend: string) => on(backend === 'ops' ? 'cpu' : backend, () => {
    let w = randomTensor([10, 3], 1);
    let m = tf.zerosLike(w);
    let v = tf.zerosLike(w);
    for (let step = 1; step <= 3; step++) {
      const g = tf.mul(randomTensor([10, 3], 10 + step), step);
      const attrs = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step };
      [w, m, v] = backend === 'ops' ? opsAdam(w, g, m, v, attrs) : adamUpdate(w, g, m, v, attrs);
    }
    return [w, m, v];
  });
  const ref = await run('ops');
  for (const backend of ['wasm', 'cpu']) {
    assert.ok(tf.getKernel(ADAM, backend));
    const got = await run(backend);
    got.forEach((g, i) => assertClose(g, ref[i], `${backend} output ${i}`, 1e-5, 1e-7));
  }
});

/** The reference: the composed formula, on the cpu backend with the kernel unregistered for the call. */
function opsAdam(w: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, a: { learningRate: number; beta1: number; beta2: number; epsilon: number; step: number }): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const m2 = tf.add(tf.mul(m, a.beta1), tf.mul(g, 1 - a.beta1));
  const v2 = tf.add(tf.mul(v, a.beta2), tf.mul(tf.square(g), 1 - a.beta2));
  const w2 = tf.sub(w, tf.div(tf.mul(tf.div(m2, 1 - a.beta1 ** a.step), a.learningRate), tf.add(tf.sqrt(tf.div(v2, 1 - a.beta2 ** a.step)), a.epsilon)));
  return [w2, m2, v2];
}

test('Transpose on wasm: the identity permutation shares the input, others still transpose', async () => {
  const run = (backend: string) => on(backend, () => {
    const x = randomTensor([3, 4, 2], 5);
    return [tf.transpose(x, [0, 1, 2]), tf.transpose(x, [2, 0, 1]), tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor1d([2, 0, 2], 'int32')), randomTensor([3, 4, 2], 6))))(x)];
  });
  const ref = await run('cpu');
  const got = await run('wasm');
  ref.forEach((r, i) => assertClose(got[i], r, `case ${i}`));
});
