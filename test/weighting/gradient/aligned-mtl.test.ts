import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/data/rng';
import { createAlignedMtl } from '../../../src/weighting/gradient/aligned-mtl';
import { gram, symmetricEigen } from '../../../src/weighting/gradient/linalg';

const close = (a: number, b: number, what: string, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} != ${b}`);
const closeAll = (a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-6) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) close(a[i], b[i], `${what}[${i}]`, tol);
};
const f32 = (xs: number[]) => Float32Array.from(xs);
const dotp = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
const run = (grads: number[][]) =>
  createAlignedMtl({}, grads.length).aggregate({ grads: grads.map(f32), losses: grads.map(() => 1) }, { step: 1, rng: new Rng(1) });

test('Aligned-MTL on orthogonal [2,0] and [0,1]: both scaled to the smaller norm, d = [1,1]', () => {
  const { direction, weights } = run([[2, 0], [0, 1]]);
  closeAll(weights, [0.5, 1], 'weights');
  closeAll(direction, [1, 1], 'direction');
});

test('Aligned-MTL: the direction has equal components √λ_min along the orthonormalized tasks', () => {
  const rng = new Rng(29);
  for (let trial = 0; trial < 30; trial++) {
    const tasks = 2 + rng.int(3);
    // Rounded to float32 first, so that the test's Gram matrix is the method's.
    const grads = Array.from({ length: tasks }, () => [...f32(Array.from({ length: tasks + 2 }, () => rng.normal() * (1 + 2 * rng.next())))]);
    const { direction } = run(grads);
    // Symmetric (Löwdin) orthonormalization q_t = Σ_s (M^(-1/2))_ts g_s, M the Gram matrix.
    const { values, vectors } = symmetricEigen(gram(grads.map(f32)));
    const invSqrt = values.map((_, i) => values.map((__, j) => values.reduce((s, l, k) => s + (vectors[i][k] * vectors[j][k]) / Math.sqrt(l), 0)));
    const q = invSqrt.map((row) => grads[0].map((_, k) => row.reduce((s, c, t) => s + c * grads[t][k], 0)));
    q.forEach((qi, i) => q.forEach((qj, j) => close(dotp(qi, qj), i === j ? 1 : 0, 'orthonormal', 1e-9)));
    for (const qt of q) close(dotp(direction, qt), Math.sqrt(values[0]), 'component along q_t', 1e-4);
  }
});

test('Aligned-MTL: rank-deficient and zero gradients', () => {
  // [1,0] and [2,0]: rank 1, λ = 5, B = vvᵀ/5 with v = [1,2] → weights [3/5, 6/5], d = [3, 0]
  const parallel = run([[1, 0], [2, 0]]);
  closeAll(parallel.weights, [0.6, 1.2], 'weights');
  closeAll(parallel.direction, [3, 0], 'direction');
  const zero = run([[0, 0], [0, 0]]);
  assert.ok(zero.weights.every(Number.isFinite));
  closeAll(zero.direction, [0, 0], 'zero gradients');
});

test('Aligned-MTL: two conflicting gradients of equal norm are both improved (not so for unequal norms)', () => {
  // G d = √λ_min·M^(1/2)·1, and for two tasks M^(1/2) = (M + √det(M)·I)/τ, so task 1 gets
  // (|g1|² + g1·g2 + |g1||g2||sin θ|)/τ: ≥ 0 for equal norms (1 + cos θ ≥ 0), −2/τ for [1,0], [-4,1].
  for (const angle of [1.7, 2.5, 3.0]) {
    const grads = [[1, 0], [Math.cos(angle), Math.sin(angle)]];
    const { direction } = run(grads);
    for (const g of grads) assert.ok(dotp(direction, g) >= -1e-6, `angle ${angle}`);
  }
  const { direction } = run([[1, 0], [-4, 1]]);
  assert.ok(dotp(direction, [1, 0]) < 0, 'with norms 1 and √17 the first task conflicts');
});
