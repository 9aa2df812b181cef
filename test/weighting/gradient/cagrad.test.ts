import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/data/rng';
import { createCagrad } from '../../../src/weighting/gradient/cagrad';

const close = (a: number, b: number, what: string, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} != ${b}`);
const closeAll = (a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-6) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) close(a[i], b[i], `${what}[${i}]`, tol);
};
const f32 = (xs: number[]) => Float32Array.from(xs);
const dotp = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
const run = (grads: number[][], options = {}) =>
  createCagrad(options, grads.length).aggregate({ grads: grads.map(f32), losses: grads.map(() => 1) }, { step: 1, rng: new Rng(1) });

test('CAGrad with c = 0 is the mean gradient', () => {
  const grads = [[1, 0, 2], [-3, 1, 0], [0.5, 0.5, -1]];
  const { direction, weights } = run(grads, { c: 0 });
  closeAll(direction, [-0.5, 0.5, 1 / 3], 'direction');
  closeAll(weights, [1 / 3, 1 / 3, 1 / 3], 'weights');
});

test('CAGrad: d maximizes the worst task improvement over the ball |d − g0| ≤ c|g0|', () => {
  for (const grads of [[[1, 0], [-1, 1]], [[1, 0], [-4, 1]], [[2, 1], [-1, 3]]]) {
    for (const c of [0.2, 0.5, 0.9]) {
      const d = run(grads, { c, rescale: 0 }).direction;
      const g0 = [0, 1].map((k) => (grads[0][k] + grads[1][k]) / 2);
      const radius = c * Math.hypot(...g0);
      close(Math.hypot(d[0] - g0[0], d[1] - g0[1]), radius, 'on the sphere', 1e-5);
      const worst = (v: ArrayLike<number>) => Math.min(...grads.map((g) => dotp(g, v)));
      let best = -Infinity;
      for (let k = 0; k < 20000; k++) {
        const angle = (2 * Math.PI * k) / 20000;
        best = Math.max(best, worst([g0[0] + radius * Math.cos(angle), g0[1] + radius * Math.sin(angle)]));
      }
      assert.ok(worst(d) >= best - 1e-5, `${JSON.stringify(grads)}, c = ${c}: ${worst(d)} < ${best}`);
    }
  }
});

test('CAGrad: rescale 1 divides by 1 + c², rescale 2 by 1 + c (identical gradients: d = (1 + c)·g before)', () => {
  const g = [[3, -1], [3, -1]];
  closeAll(run(g, { rescale: 0 }).direction, [4.5, -1.5], 'rescale 0');
  closeAll(run(g).direction, [4.5 / 1.25, -1.5 / 1.25], 'rescale 1 (default)');
  closeAll(run(g, { rescale: 2 }).direction, [3, -1], 'rescale 2');
  const { direction, weights } = run([[1, 0], [-4, 1]]);
  closeAll(direction, [0, 1].map((k) => weights[0] * [1, 0][k] + weights[1] * [-4, 1][k]), 'direction = Σ w g');
  assert.throws(() => createCagrad({ c: -1 }, 2), /c must be/);
  assert.throws(() => createCagrad({ rescale: 3 as 1 }, 2), /rescale/);
});
