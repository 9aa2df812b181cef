import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/data/rng';
import { createImtl } from '../../../src/weighting/gradient/imtl';
import { solveLinear } from '../../../src/weighting/gradient/linalg';

const close = (a: number, b: number, what: string, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} != ${b}`);
const closeAll = (a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-6) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) close(a[i], b[i], `${what}[${i}]`, tol);
};
const f32 = (xs: number[]) => Float32Array.from(xs);
const dotp = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
const run = (grads: number[][]) =>
  createImtl({}, grads.length).aggregate({ grads: grads.map(f32), losses: grads.map(() => 1) }, { step: 1, rng: new Rng(1) });

/** LibMTL's IMTL gradient part: α_{2..T} = g1 Uᵀ (D Uᵀ)⁻¹, α_1 = 1 − Σ. */
function libmtl(grads: number[][]): number[] {
  const units = grads.map((g) => g.map((v) => v / Math.hypot(...g)));
  const d = grads.slice(1).map((g) => g.map((v, k) => grads[0][k] - v));
  const u = units.slice(1).map((g) => g.map((v, k) => units[0][k] - v));
  const du = d.map((row) => u.map((col) => dotp(row, col)));
  // α = b (D Uᵀ)⁻¹ with b = g1 Uᵀ, i.e. (D Uᵀ)ᵀ αᵀ = bᵀ
  const alpha = solveLinear(du[0].map((_, j) => du.map((row) => row[j])), u.map((row) => dotp(grads[0], row)));
  assert.ok(alpha !== null);
  return [1 - alpha.reduce((a, b) => a + b, 0), ...alpha];
}

test('IMTL-G on [2,0] and [0,1]: weights [1/3, 2/3], equal projections 2/3 on both tasks', () => {
  const { direction, weights } = run([[2, 0], [0, 1]]);
  closeAll(weights, [1 / 3, 2 / 3], 'weights');
  closeAll(direction, [2 / 3, 2 / 3], 'direction');
});

test('IMTL-G: the direction projects equally onto every unit task gradient, and matches LibMTL\'s closed form', () => {
  const rng = new Rng(17);
  for (let trial = 0; trial < 30; trial++) {
    const tasks = 2 + rng.int(3);
    const grads = Array.from({ length: tasks }, () => Array.from({ length: tasks + 2 }, () => rng.normal() * (1 + 3 * rng.next())));
    const { direction, weights } = run(grads);
    close(weights.reduce((a, b) => a + b, 0), 1, 'weights sum to 1');
    const projections = grads.map((g) => dotp(direction, g) / Math.hypot(...g));
    for (const p of projections) close(p, projections[0], 'equal projections', 1e-4);
    closeAll(weights, libmtl(grads), 'LibMTL', 1e-4);
  }
});

test('IMTL-G: parallel gradients (LibMTL\'s inverse is singular) still give equal projections', () => {
  // G = [[1,2],[2,4]], G⁺|g| = [0.2, 0.4] → α = [1/3, 2/3], d = [5/3, 0]
  const { direction, weights } = run([[1, 0], [2, 0]]);
  closeAll(weights, [1 / 3, 2 / 3], 'weights');
  closeAll(direction, [5 / 3, 0], 'direction');
});
