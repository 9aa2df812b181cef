import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/data/rng';
import { createUpgrad } from '../../../src/weighting/gradient/upgrad';

const close = (a: number, b: number, what: string, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} != ${b}`);
const closeAll = (a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-6) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) close(a[i], b[i], `${what}[${i}]`, tol);
};
const f32 = (xs: number[]) => Float32Array.from(xs);
const dotp = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
const run = (grads: number[][], options = {}) =>
  createUpgrad(options, grads.length).aggregate({ grads: grads.map(f32), losses: grads.map(() => 1) }, { step: 1, rng: new Rng(1) });

test('UPGrad on gradients that do not conflict is their mean', () => {
  const grads = [[1, 0, 1], [2, 1, 0], [0, 3, 1]];
  const { direction, weights } = run(grads);
  assert.deepEqual(weights, [1 / 3, 1 / 3, 1 / 3]);
  closeAll(direction, [1, 4 / 3, 2 / 3], 'direction');
});

test('UPGrad on [1,0] and [-1,1]: the halves projected onto the dual cone, summed', () => {
  // g1/2 = [0.5,0] → [0.25,0.25] (onto g2·v = 0); g2/2 = [-0.5,0.5] → [0,0.5] (onto g1·v = 0)
  const exact = run([[1, 0], [-1, 1]], { reg_eps: 1e-12 });
  closeAll(exact.direction, [0.25, 0.75], 'direction');
  closeAll(exact.weights, [1, 0.75], 'weights');
  // TorchJD's defaults (reg_eps = 1e-4 on the trace-normalized Gram matrix) move it a little.
  closeAll(run([[1, 0], [-1, 1]]).direction, [0.25, 0.75], 'default regularization', 1e-3);
});

test('UPGrad: the direction improves every task (G w ≥ 0 without regularization)', () => {
  const rng = new Rng(31);
  for (let trial = 0; trial < 40; trial++) {
    // Linearly independent gradients, so that the dual cone is more than {0}.
    const tasks = 2 + rng.int(4);
    const size = tasks + rng.int(4);
    const grads = Array.from({ length: tasks }, () => Array.from({ length: size }, () => rng.normal()));
    const { direction } = run(grads, { reg_eps: 1e-12 });
    const dn = Math.hypot(...direction);
    for (const g of grads) assert.ok(dotp(direction, g) >= -1e-6 * dn * Math.hypot(...g), `trial ${trial}`);
  }
});

test('UPGrad: preference vector, and a Gram matrix below norm_eps counts as zero (weights = preferences)', () => {
  closeAll(run([[1, 0], [1, 1]], { pref_vector: [1, 0] }).direction, [1, 0], 'only the first task');
  assert.deepEqual(run([[1e-3, 0], [-1e-3, 1e-3]]).weights, [0.5, 0.5]);
  assert.throws(() => createUpgrad({ pref_vector: [1, 2, 3] }, 2), /pref_vector/);
});
