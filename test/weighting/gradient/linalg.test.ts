import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/data/rng';
import {
  bilinear,
  combine,
  dot,
  gram,
  matVec,
  minimizeOnSimplex,
  minNormElement,
  minNormOfTwo,
  nonnegativeQP,
  norm,
  projectToSimplex,
  psdPseudoInverse,
  solveLinear,
  symmetricEigen,
  type Matrix,
} from '../../../src/weighting/gradient/linalg';

const close = (a: number, b: number, what: string, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} != ${b}`);
const closeAll = (a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-9) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) close(a[i], b[i], `${what}[${i}]`, tol);
};
const f32 = (xs: number[]) => Float32Array.from(xs);
const randomGrads = (rng: Rng, tasks: number, size: number) => Array.from({ length: tasks }, () => f32(Array.from({ length: size }, () => rng.normal())));
const matMul = (a: Matrix, b: Matrix) => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));

test('dot, norm, Gram matrix and Σ w_t g_t', () => {
  const g = [f32([1, 2, 3]), f32([-1, 0, 2])];
  close(dot(g[0], g[1]), 5, 'dot');
  close(norm(g[0]), Math.sqrt(14), 'norm');
  assert.deepEqual(gram(g), [[14, 5], [5, 5]]);
  closeAll(combine(g, [2, -1]), [3, 4, 4], 'combine');
});

test('solveLinear: a 3×3 system, and null for a singular one', () => {
  const a = [[2, 1, -1], [-3, -1, 2], [-2, 1, 2]];
  closeAll(solveLinear(a, [8, -11, -3]) ?? [], [2, 3, -1], 'x');
  assert.equal(solveLinear([[1, 2], [2, 4]], [1, 2]), null);
});

test('symmetricEigen: ascending values, orthonormal vectors, A V = V Λ', () => {
  const { values, vectors } = symmetricEigen([[2, 1], [1, 2]]);
  closeAll(values, [1, 3], 'values of [[2,1],[1,2]]');
  close(Math.abs(vectors[0][1]), Math.SQRT1_2, 'eigenvector of 3');
  const rng = new Rng(3);
  for (const n of [1, 3, 5, 8]) {
    const b = Array.from({ length: n }, () => Array.from({ length: n }, () => rng.normal()));
    const a = b.map((row, i) => row.map((_, j) => b[i][j] + b[j][i]));
    const { values: l, vectors: v } = symmetricEigen(a);
    for (let k = 1; k < n; k++) assert.ok(l[k - 1] <= l[k], 'ascending');
    const vt = v[0].map((_, j) => v.map((row) => row[j]));
    const vtv = matMul(vt, v);
    const av = matMul(a, v);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        close(vtv[i][j], i === j ? 1 : 0, `VᵀV[${i}][${j}]`, 1e-12);
        close(av[i][j], v[i][j] * l[j], `AV[${i}][${j}]`, 1e-10);
      }
    }
  }
});

test('psdPseudoInverse: A A⁺ A = A for a rank-deficient Gram matrix, vvᵀ/|v|⁴ for rank one', () => {
  const pinv = psdPseudoInverse([[1, 2], [2, 4]]);
  closeAll(pinv.flat(), [1, 2, 2, 4].map((v) => v / 25), 'rank one');
  const rng = new Rng(5);
  const g = gram([...randomGrads(rng, 2, 4), f32([0, 0, 0, 0])]);
  const back = matMul(matMul(g, psdPseudoInverse(g)), g);
  closeAll(back.flat(), g.flat(), 'A A⁺ A', 1e-10);
});

test('projectToSimplex', () => {
  closeAll(projectToSimplex([1, 0.5, -1]), [0.75, 0.25, 0], 'outside');
  closeAll(projectToSimplex([0.2, 0.3, 0.5]), [0.2, 0.3, 0.5], 'already on it');
  closeAll(projectToSimplex([0, 0, 0]), [1 / 3, 1 / 3, 1 / 3], 'origin');
  closeAll(projectToSimplex([5, 0]), [1, 0], 'vertex');
});

test('minNormOfTwo: the exact closed form on [0, 1]', () => {
  // [2,0] and [0,1]: 4γ² + (1−γ)² is least at γ = 0.2
  const { gamma, cost } = minNormOfTwo(4, 0, 1);
  close(gamma, 0.2, 'γ');
  close(cost, 0.8, 'cost');
  assert.deepEqual(minNormOfTwo(1, 2, 4), { gamma: 1, cost: 1 }, 'v2 beyond v1: v1 itself');
  assert.deepEqual(minNormOfTwo(4, 2, 1), { gamma: 0, cost: 1 }, 'v1 beyond v2: v2 itself');
  assert.deepEqual(minNormOfTwo(3, 3, 3), { gamma: 1, cost: 3 }, 'identical');
});

test('minNormElement: known hulls and the optimality condition on random ones', () => {
  closeAll(minNormElement([[1, 0], [0, 1]]), [0.5, 0.5], 'two unit vectors');
  // [1,0], [0,1], [1,1]: the closest point of the hull is the middle of the first edge.
  const w = minNormElement(gram([f32([1, 0]), f32([0, 1]), f32([1, 1])]));
  closeAll(w, [0.5, 0.5, 0], 'three vectors', 1e-6);
  assert.deepEqual(minNormElement([[7]]), [1]);
  const rng = new Rng(11);
  for (let trial = 0; trial < 50; trial++) {
    const tasks = 2 + rng.int(5);
    const g = gram(randomGrads(rng, tasks, 2 + rng.int(6)));
    const x = minNormElement(g);
    close(x.reduce((a, b) => a + b, 0), 1, 'sums to 1', 1e-9);
    assert.ok(x.every((v) => v >= 0), 'nonnegative');
    // Optimality: (Gx)_i ≥ xᵀGx for every i, up to what MGDA-UB's stopping rule (weights move < 1e-5) leaves;
    // the min norm agrees with a second solver.
    const cost = bilinear(g, x, x);
    const scale = Math.max(...g.map((row, i) => row[i]));
    for (const v of matVec(g, x)) assert.ok(v >= cost - 5e-3 * scale, `(Gx)_i ${v} < xᵀGx ${cost}`);
    const y = minimizeOnSimplex((z) => bilinear(g, z, z), (z) => matVec(g, z).map((v) => 2 * v), x.map(() => 1 / tasks));
    close(cost, bilinear(g, y, y), 'min norm² agrees with projected gradient', 1e-5 * scale);
  }
});

test('minimizeOnSimplex: the nearest point of the simplex to c', () => {
  for (const c of [[0.2, 0.5, 0.3], [2, -1, 0.5], [0.1, 0.1, 0.1]]) {
    const x = minimizeOnSimplex(
      (z) => z.reduce((s, v, k) => s + (v - c[k]) ** 2, 0),
      (z) => z.map((v, k) => 2 * (v - c[k])),
      [1, 0, 0],
    );
    closeAll(x, projectToSimplex(c), `c = ${c}`, 1e-8);
  }
});

test('nonnegativeQP: known answer, and the KKT conditions against every active set', () => {
  closeAll(nonnegativeQP([[1, 0], [0, 1]], [-1, 2]), [1, 0], 'separable');
  closeAll(nonnegativeQP([[2, 1], [1, 2]], [1, 1]), [0, 0], 'origin');
  const rng = new Rng(13);
  for (let trial = 0; trial < 100; trial++) {
    const n = 1 + rng.int(6);
    const b = Array.from({ length: n + 2 }, () => Array.from({ length: n }, () => rng.normal()));
    const q = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => b.reduce((s, row) => s + row[i] * row[j], 0) + (i === j ? 1e-3 : 0)));
    const p = Array.from({ length: n }, () => rng.normal());
    const x = nonnegativeQP(q, p);
    const grad = matVec(q, x).map((v, i) => v + p[i]);
    for (let i = 0; i < n; i++) {
      assert.ok(x[i] >= 0, 'feasible');
      assert.ok(grad[i] >= -1e-9, `multiplier ${grad[i]}`);
      close(x[i] * grad[i], 0, 'complementary', 1e-9);
    }
    // The best of all 2^n candidate supports is the same objective.
    const objective = (z: number[]) => 0.5 * bilinear(q, z, z) + z.reduce((s, v, i) => s + v * p[i], 0);
    let best = 0;
    for (let mask = 1; mask < 1 << n; mask++) {
      const f = Array.from({ length: n }, (_, i) => i).filter((i) => mask & (1 << i));
      const sol = solveLinear(f.map((i) => f.map((j) => q[i][j])), f.map((i) => -p[i]));
      if (sol === null || sol.some((v) => v < 0)) continue;
      const z = new Array<number>(n).fill(0);
      f.forEach((i, k) => (z[i] = sol[k]));
      best = Math.min(best, objective(z));
    }
    close(objective(x), best, 'objective', 1e-9);
  }
});
