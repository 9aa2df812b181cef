import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { sumOfSquares } from '../../../src/backends/kernels/sum-squares';
import { values } from './helpers';

test('sumOfSquares on wasm and cpu equals Σ x² in float64, for sizes around the 1,024-float blocks; NaN and Inf carry through', async () => {
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    for (const n of [1, 3, 1023, 1024, 1025, 4096 + 7, 100_000]) {
      const x = values(n, n);
      const t = tf.tensor(x);
      let want = 0;
      for (const v of x) want += v * v;
      const got = sumOfSquares(t)!;
      assert.ok(Math.abs(got - want) <= 1e-6 * want, `${backend} n=${n}: ${got} vs ${want}`);
      t.dispose();
    }
    const bad = new Float32Array(5000).fill(0.5);
    bad[2000] = NaN;
    assert.ok(Number.isNaN(sumOfSquares(tf.tensor(bad))!), `${backend}: NaN`);
    bad[2000] = Infinity;
    assert.equal(sumOfSquares(tf.tensor(bad)), Infinity, `${backend}: Inf`);
  }
});

test('sumOfSquares leaves int tensors to the caller', async () => {
  await tf.setBackend('wasm');
  assert.equal(sumOfSquares(tf.tensor([1, 2], [2], 'int32')), undefined);
});
