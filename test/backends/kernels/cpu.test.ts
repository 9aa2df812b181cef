import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core registers no gradients by itself; tfjs-layers' bundle does (mtl always loads it).
import '@tensorflow/tfjs-layers';
import { registerCpuTrainingKernels } from '../../../src/backends/kernels/cpu';
import { Rng } from '../../../src/data/rng';
import { assertClose } from '../../helpers/compare';
import { cases, convGrads, lossAt, outputShape, random } from './conv-cases';

test('the cpu conv filter gradient matches the stock tfjs kernel and finite differences', async () => {
  await tf.setBackend('cpu');
  const inputs = cases.map((c) => {
    const rng = new Rng(c.n * 77 + c.w);
    const out = outputShape(c);
    return { c, out, x: random([c.n, c.h, c.w, c.ci], rng), w: random([c.k, c.k, c.ci, c.co], rng), r: random(out, rng), rng };
  });
  // Stock kernels first, then mtl's in the same process.
  const reference = inputs.map(({ c, x, w, r, out }) => convGrads(c, x, w, r, out));
  registerCpuTrainingKernels();
  inputs.forEach(({ c, x, w, r, out, rng }, i) => {
    const label = `n${c.n} ${c.h}x${c.w}x${c.ci}->${c.co} k${c.k} s${c.stride} ${c.pad}`;
    const fast = convGrads(c, x, w, r, out);
    assertClose(fast.dw, reference[i].dw, 1e-4, 1e-4, `${label} dW`);
    const eps = 1e-2;
    for (let t = 0; t < 3; t++) {
      const k = rng.int(w.length);
      const plus = Float32Array.from(w);
      const minus = Float32Array.from(w);
      plus[k] += eps;
      minus[k] -= eps;
      const numeric = (lossAt(c, x, plus, r, out) - lossAt(c, x, minus, r, out)) / (2 * eps);
      assertClose([fast.dw[k]], [numeric], 2e-2, 2e-2, `${label} dW[${k}] vs finite difference`);
    }
  });
});
