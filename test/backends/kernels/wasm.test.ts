import { test, before } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// tfjs-core registers no gradients by itself; tfjs-layers' bundle does (mtl always loads it).
import '@tensorflow/tfjs-layers';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { Rng } from '../../../src/data/rng';
import { cases, convGrads, lossAt, outputShape, random } from './conv-cases';
import { assertClose } from '../../helpers/compare';

before(async () => {
  await tf.setBackend('wasm');
  registerWasmTrainingKernels();
});

for (const c of cases) {
  const label = `n${c.n} ${c.h}x${c.w}x${c.ci}->${c.co} k${c.k} s${c.stride} ${c.pad}`;
  test(`conv gradients on wasm match the cpu reference and finite differences: ${label}`, async () => {
    const rng = new Rng(c.n * 1000 + c.h * 10 + c.k);
    const outShape = outputShape(c);
    const x = random([c.n, c.h, c.w, c.ci], rng);
    const w = random([c.k, c.k, c.ci, c.co], rng);
    const r = random(outShape, rng);
    await tf.setBackend('cpu');
    const reference = convGrads(c, x, w, r, outShape);
    await tf.setBackend('wasm');
    const fast = convGrads(c, x, w, r, outShape);
    assertClose(fast.dw, reference.dw, 1e-4, 1e-4, `${label} dW`);
    assertClose(fast.dx, reference.dx, 1e-4, 1e-4, `${label} dx`);

    // Central differences in a few coordinates of x and w.
    const eps = 1e-2;
    for (const [name, values, grad] of [['w', w, fast.dw], ['x', x, fast.dx]] as const) {
      for (let t = 0; t < 4; t++) {
        const i = rng.int(values.length);
        const plus = Float32Array.from(values);
        const minus = Float32Array.from(values);
        plus[i] += eps;
        minus[i] -= eps;
        const numeric =
          name === 'w'
            ? (lossAt(c, x, plus, r, outShape) - lossAt(c, x, minus, r, outShape)) / (2 * eps)
            : (lossAt(c, plus, w, r, outShape) - lossAt(c, minus, w, r, outShape)) / (2 * eps);
        assertClose([grad[i]], [numeric], 2e-2, 2e-2, `${label} d${name}[${i}] vs finite difference`);
      }
    }
  });
}
