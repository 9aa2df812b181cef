import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { registerCpuTrainingKernels } from '../../../src/backends/kernels/cpu';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from '../../../src/backends/kernels/batch-norm';
import { assertClose, on, randomTensor, values } from './helpers';

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

registerWasmTrainingKernels();
registerCpuTrainingKernels();

// Channel counts in fours and not, a few rows and many (several blocks of rows), activations off zero.
const SHAPES = [[3, 4, 5, 6], [2, 3, 3, 8], [300, 12], [4, 16, 16, 64], [2, 8, 8, 256], [5, 7]];

for (const [k, shape] of SHAPES.entries()) {
  test(`MtlBatchNormTrain and its gradient on wasm match the cpu backend, x ${shape.join('x')}`, async () => {
    const c = shape[shape.length - 1];
    const run = (backend: string) => on(backend, () => {
      const x = tf.add(tf.mul(randomTensor(shape, 1 + k), 3), 2);
      const scale = tf.add(randomTensor([c], 2 + k), 1.5);
      const offset = randomTensor([c], 3 + k);
      const dy = randomTensor(shape, 4 + k);
      const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, scale, offset }, { epsilon: 1.001e-5 }) as tf.Tensor[];
      const grads = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { dy, x, scale, mean, variance }, { epsilon: 1.001e-5 }) as tf.Tensor[];
      return [y, mean, variance, ...grads];
    });
    const ref = await run('cpu');
    const got = await run('wasm');
    ['y', 'mean', 'variance', 'dx', 'dscale', 'doffset'].forEach((what, i) => assertClose(got[i], ref[i], what, 2e-4, 1e-5));
  });
}

const sameValues = (actual: Float32Array, expected: Float32Array, what: string) => {
  const differing = actual.findIndex((v, i) => !(v === expected[i] || (Number.isNaN(v) && Number.isNaN(expected[i]))));
  if (differing >= 0) throw new Error(`${what}: element ${differing} is ${actual[differing]}, expected ${expected[differing]}`);
};

for (const [k, shape] of SHAPES.entries()) {
  for (const [backend, infinite] of [['wasm', false], ['cpu', false], ['wasm', true], ['cpu', true]] as const) {
    test(`MtlBatchNormTrain with relu on ${backend} is the unfused batch norm, Relu and their gradients, value for value${infinite ? ', with infinite gradients' : ''}, x ${shape.join('x')}`, async () => {
      const c = shape[shape.length - 1];
      // About half the normalized values below zero, so the mask matters.
      const inputs = () => ({ x: tf.add(tf.mul(randomTensor(shape, 1 + k), 3), 2), scale: tf.add(randomTensor([c], 2 + k), 1.5), offset: randomTensor([c], 3 + k) });
      // A few infinite gradients, where the mask is 0 too: 0 · ∞ is NaN there, as Relu's gradient makes it.
      const dy = () => (infinite ? tf.tensor(values(sizeOf(shape), 4 + k).map((v, i) => (i % 7 === 3 ? Infinity : v)), shape) : randomTensor(shape, 4 + k));
      const fused = await on(backend, () => {
        const { x, scale, offset } = inputs();
        const [y, mean, variance, a, b] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, scale, offset }, { epsilon: 1.001e-5, relu: true }) as tf.Tensor[];
        const grads = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { dy: dy(), x, scale, mean, variance, a, b }, { epsilon: 1.001e-5, relu: true }) as tf.Tensor[];
        return [y, mean, variance, ...grads];
      });
      const unfused = await on(backend, () => {
        const { x, scale, offset } = inputs();
        const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, scale, offset }, { epsilon: 1.001e-5 }) as tf.Tensor[];
        const maskedDy = tf.mul(dy(), tf.step(y));
        const grads = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { dy: maskedDy, x, scale, mean, variance }, { epsilon: 1.001e-5 }) as tf.Tensor[];
        return [tf.relu(y), mean, variance, ...grads];
      });
      const masked = fused[0].filter((v) => v === 0).length / fused[0].length;
      if (masked < 0.1 || masked > 0.9) throw new Error(`${masked} of the outputs are 0: the relu mask is not exercised`);
      ['y', 'mean', 'variance', 'dx', 'dscale', 'doffset'].forEach((what, i) => sameValues(fused[i], unfused[i], what));
      if (infinite && !fused[5].some(Number.isNaN)) throw new Error('no infinite gradient met a zero of the mask');
    });
  }
}
