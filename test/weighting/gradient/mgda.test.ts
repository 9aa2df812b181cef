import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/data/rng';
import { createMgda } from '../../../src/weighting/gradient/mgda';
import { dot } from '../../../src/weighting/gradient/linalg';

const close = (a: number, b: number, what: string, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} != ${b}`);
const closeAll = (a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-6) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) close(a[i], b[i], `${what}[${i}]`, tol);
};
const f32 = (xs: number[]) => Float32Array.from(xs);
const ctx = { step: 1, rng: new Rng(1) };
const run = (grads: number[][], options = {}, losses = grads.map(() => 1)) =>
  createMgda(options, grads.length).aggregate({ grads: grads.map(f32), losses }, ctx);

test('MGDA: the min-norm point of [1,0] and [0,1] is [0.5,0.5]', () => {
  const { direction, weights } = run([[1, 0], [0, 1]]);
  closeAll(weights, [0.5, 0.5], 'weights');
  closeAll(direction, [0.5, 0.5], 'direction');
});

test('MGDA: of [2,0] and [0,1] it is 0.2·[2,0] + 0.8·[0,1], equally aligned with both', () => {
  // min over γ of 4γ² + (1−γ)²: γ = 0.2, d = [0.4, 0.8], |d|² = 0.8 = d·g1 = d·g2
  const { direction, weights } = run([[2, 0], [0, 1]]);
  closeAll(weights, [0.2, 0.8], 'weights');
  closeAll(direction, [0.4, 0.8], 'direction');
  close(dot(direction, f32([2, 0])), 0.8, 'd·g1');
  close(dot(direction, f32([0, 1])), 0.8, 'd·g2');
});

test('MGDA: identical gradients give that gradient; a gradient inside the other\'s shadow is the answer itself', () => {
  closeAll(run([[3, -1, 2], [3, -1, 2]]).direction, [3, -1, 2], 'identical');
  // [1,0] and [2,0]: the segment's closest point to 0 is [1,0] exactly (LibMTL's clamp would give 1.001·[1,0]).
  const { direction, weights } = run([[1, 0], [2, 0]]);
  closeAll(weights, [1, 0], 'weights');
  closeAll(direction, [1, 0], 'direction');
});

test('MGDA: three tasks, the third far from the origin, gets no weight', () => {
  const { direction, weights } = run([[1, 0], [0, 1], [1, 1]]);
  closeAll(weights, [0.5, 0.5, 0], 'weights');
  closeAll(direction, [0.5, 0.5], 'direction');
});

test('MGDA: gradient normalizations (LibMTL mgda_gn) divide before solving, weights refer to the raw gradients', () => {
  // l2: unit vectors [1,0] and [0,1] → 0.5 each, i.e. 0.25·[2,0] + 0.5·[0,1]
  const l2 = run([[2, 0], [0, 1]], { normalization: 'l2' });
  closeAll(l2.weights, [0.25, 0.5], 'l2 weights');
  closeAll(l2.direction, [0.5, 0.5], 'l2 direction');
  // loss: g/L with losses [2, 1] is again [1,0], [0,1]
  closeAll(run([[2, 0], [0, 1]], { normalization: 'loss' }, [2, 1]).weights, [0.25, 0.5], 'loss weights');
  // loss+: g/(L·|g|) with losses [1, 2]: [1,0] and [0,0.5] → γ = 0.2 → 0.2/2, 0.8/2
  closeAll(run([[2, 0], [0, 1]], { normalization: 'loss+' }, [1, 2]).weights, [0.1, 0.4], 'loss+ weights');
  assert.throws(() => createMgda({ normalization: 'l1' as 'l2' }, 2), /unknown normalization/);
});

test('MGDA: the direction never conflicts with a task (d·g_t ≥ |d|²)', () => {
  const rng = new Rng(21);
  for (let trial = 0; trial < 30; trial++) {
    const tasks = 2 + rng.int(3);
    const size = 3 + rng.int(5);
    const grads = Array.from({ length: tasks }, () => Array.from({ length: size }, () => rng.normal()));
    const { direction, weights } = run(grads);
    close(weights.reduce((a, b) => a + b, 0), 1, 'weights sum to 1');
    const d2 = dot(direction, direction);
    // Exact for two tasks; the Frank–Wolfe stopping rule leaves a little slack for more.
    for (const g of grads) assert.ok(dot(direction, f32(g)) >= d2 - 5e-3 * Math.max(...grads.map((h) => dot(f32(h), f32(h)))), 'd·g_t ≥ |d|²');
  }
});
