import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/data/rng';
import { gram, matVec } from '../../../src/weighting/gradient/linalg';
import { createNashMtl, nashResidual, solveNash } from '../../../src/weighting/gradient/nash-mtl';

const close = (a: number, b: number, what: string, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} != ${b}`);
const closeAll = (a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-6) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) close(a[i], b[i], `${what}[${i}]`, tol);
};
const f32 = (xs: number[]) => Float32Array.from(xs);
const setOf = (grads: number[][]) => ({ grads: grads.map(f32), losses: grads.map(() => 1) });
const ctx = (step: number) => ({ step, rng: new Rng(step) });

test('Nash-MTL on orthogonal [2,0] and [0,1]: α_t = 1/|g_t|, d = [1,1] (clipped to max_norm 1)', () => {
  const unclipped = createNashMtl({ max_norm: 0 }, 2).aggregate(setOf([[2, 0], [0, 1]]), ctx(1));
  closeAll(unclipped.weights, [0.5, 1], 'α');
  closeAll(unclipped.direction, [1, 1], 'direction');
  const clipped = createNashMtl({}, 2).aggregate(setOf([[2, 0], [0, 1]]), ctx(1));
  const scale = 1 / (Math.SQRT2 + 1e-6);
  closeAll(clipped.weights, [0.5 * scale, scale], 'clipped weights');
  close(Math.hypot(...clipped.direction), 1, 'clipped norm', 1e-5);
});

test('Nash-MTL: α solves (GᵀGα)_t·α_t = 1, so every task improves by 1/α_t', () => {
  const rng = new Rng(23);
  for (let trial = 0; trial < 40; trial++) {
    const tasks = 2 + rng.int(3);
    const grads = Array.from({ length: tasks }, () => Array.from({ length: tasks + 3 }, () => rng.normal() * Math.exp(rng.normal())));
    const { direction, weights } = createNashMtl({ max_norm: 0 }, tasks).aggregate(setOf(grads), ctx(1));
    const g = gram(grads.map(f32));
    matVec(g, weights).forEach((v, t) => close(v * weights[t], 1, `α_t(Gα)_t, trial ${trial}`, 1e-6));
    grads.forEach((gt, t) => close(gt.reduce((s, v, k) => s + v * direction[k], 0), 1 / weights[t], 'd·g_t', 1e-3 / weights[t]));
    assert.ok(weights.every((a) => a > 0), 'α > 0');
  }
});

test('Nash-MTL: the solution does not depend on the warm start; a system without solution returns null', () => {
  const g = gram([[1, 0.5, 0], [-2, 1, 1], [0, -1, 3]].map(f32));
  const a = solveNash(g, [1, 1, 1], 20);
  const b = solveNash(g, [100, 0.01, 3], 20);
  assert.ok(a !== null && b !== null);
  closeAll(a, b, 'warm starts', 1e-9);
  assert.ok(nashResidual(g, a) < 1e-9);
  // g2 = −g1: no α > 0 makes both (Gα)_t positive.
  assert.equal(solveNash(gram([[1, 2], [-1, -2]].map(f32)), [1, 1], 20), null);
});

test('Nash-MTL: a failed solve keeps the previous α (LibMTL starts from α = 1)', () => {
  const method = createNashMtl({ max_norm: 0 }, 2);
  const { weights, direction } = method.aggregate(setOf([[1, 2], [-1, -2]]), ctx(1));
  assert.deepEqual(weights, [1, 1]);
  closeAll(direction, [0, 0], 'direction');
  const solved = method.aggregate(setOf([[2, 0], [0, 1]]), ctx(2)).weights;
  assert.deepEqual(method.aggregate(setOf([[1, 2], [-1, -2]]), ctx(3)).weights, solved);
});

test('Nash-MTL: update_weights_every = 3 solves on steps 1, 4, 7 and reuses α in between', () => {
  const method = createNashMtl({ max_norm: 0, update_weights_every: 3 }, 2);
  const sets = [[[2, 0], [0, 1]], [[1, 0], [0, 4]], [[1, 1], [-1, 2]], [[3, 0], [0, 1]]];
  const w = sets.map((s, i) => method.aggregate(setOf(s), ctx(i + 1)).weights);
  closeAll(w[0], [0.5, 1], 'step 1');
  assert.deepEqual(w[1], w[0], 'step 2 reuses α');
  assert.deepEqual(w[2], w[0], 'step 3 reuses α');
  closeAll(w[3], [1 / 3, 1], 'step 4 solves again');
});

test('Nash-MTL: getState/setState resumes exactly; bad states and options are refused', () => {
  const rng = new Rng(5);
  const sets = Array.from({ length: 6 }, () => [0, 1, 2].map(() => Array.from({ length: 5 }, () => rng.normal())));
  const a = createNashMtl({ update_weights_every: 2 }, 3);
  sets.slice(0, 3).forEach((s, i) => a.aggregate(setOf(s), ctx(i + 1)));
  const b = createNashMtl({ update_weights_every: 2 }, 3);
  b.setState(JSON.parse(JSON.stringify(a.getState())));
  for (let i = 3; i < 6; i++) assert.deepEqual(b.aggregate(setOf(sets[i]), ctx(i + 1)), a.aggregate(setOf(sets[i]), ctx(i + 1)));
  assert.throws(() => b.setState({ alpha: [1, 2] }), /alpha/);
  assert.throws(() => b.setState({}), /alpha/);
  assert.throws(() => createNashMtl({ update_weights_every: 0 }, 2), /update_weights_every/);
  assert.throws(() => createNashMtl({ max_norm: -1 }, 2), /max_norm/);
});
