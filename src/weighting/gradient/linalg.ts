/**
 * The small linear algebra the gradient methods share. Gradients are Float32Array
 * (long); everything derived from them — the T×T Gram matrix, weights, the solvers —
 * is float64 (plain numbers), with T the number of tasks (≤ ~10).
 */

export type Matrix = number[][];

/** Machine epsilon of float32: the gradients' precision, used for rank decisions. */
export const FLOAT32_EPS = 2 ** -23;

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function norm(a: Float32Array): number {
  return Math.sqrt(dot(a, a));
}

/** G[i][j] = g_i·g_j, accumulated in float64. */
export function gram(grads: Float32Array[]): Matrix {
  const n = grads.length;
  const g: Matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) g[i][j] = g[j][i] = dot(grads[i], grads[j]);
  }
  return g;
}

/** Σ_t w_t g_t, accumulated in float64. */
export function combine(grads: Float32Array[], weights: number[]): Float32Array {
  const size = grads[0].length;
  const acc = new Float64Array(size);
  grads.forEach((g, t) => {
    const w = weights[t];
    if (w !== 0) for (let i = 0; i < size; i++) acc[i] += w * g[i];
  });
  return Float32Array.from(acc);
}

export function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

export function vdot(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function matVec(a: Matrix, x: number[]): number[] {
  return a.map((row) => vdot(row, x));
}

/** xᵀ A y. */
export function bilinear(a: Matrix, x: number[], y: number[]): number {
  return vdot(x, matVec(a, y));
}

export function identity(n: number): Matrix {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
}

/** Solves A x = b by Gaussian elimination with partial pivoting; null when A is (numerically) singular. */
export function solveLinear(a: Matrix, b: number[]): number[] | null {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  const scale = Math.max(...a.flat().map(Math.abs));
  if (!(scale > 0)) return n === 0 ? [] : null;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i][k]) > Math.abs(m[p][k])) p = i;
    if (Math.abs(m[p][k]) <= 1e-14 * scale) return null;
    [m[k], m[p]] = [m[p], m[k]];
    for (let i = k + 1; i < n; i++) {
      const f = m[i][k] / m[k][k];
      for (let j = k; j <= n; j++) m[i][j] -= f * m[k][j];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = m[i][n];
    for (let j = i + 1; j < n; j++) s -= m[i][j] * x[j];
    x[i] = s / m[i][i];
  }
  return x;
}

/**
 * Eigendecomposition of a symmetric matrix by cyclic Jacobi rotations:
 * A = V diag(values) Vᵀ, values ascending, eigenvector k in column k (vectors[i][k]).
 */
export function symmetricEigen(a: Matrix): { values: number[]; vectors: Matrix } {
  const n = a.length;
  const m = a.map((row) => [...row]);
  const v = identity(n);
  const total = Math.sqrt(sum(m.flat().map((x) => x * x)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += m[i][j] * m[i][j];
    if (Math.sqrt(off) <= 1e-15 * total || total === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (m[p][q] === 0) continue;
        // Rotation that zeroes m[p][q] (Golub and Van Loan, Algorithm 8.4.1).
        const theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const kp = m[k][p];
          const kq = m[k][q];
          m[k][p] = c * kp - s * kq;
          m[k][q] = s * kp + c * kq;
        }
        for (let k = 0; k < n; k++) {
          const pk = m[p][k];
          const qk = m[q][k];
          m[p][k] = c * pk - s * qk;
          m[q][k] = s * pk + c * qk;
        }
        for (let k = 0; k < n; k++) {
          const kp = v[k][p];
          const kq = v[k][q];
          v[k][p] = c * kp - s * kq;
          v[k][q] = s * kp + c * kq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => m[x][x] - m[y][y]);
  return { values: order.map((i) => m[i][i]), vectors: v.map((row) => order.map((i) => row[i])) };
}

/**
 * Moore–Penrose pseudo-inverse of a symmetric positive semi-definite matrix:
 * eigenvalues at or below max λ · n · FLOAT32_EPS count as zero.
 */
export function psdPseudoInverse(a: Matrix): Matrix {
  const n = a.length;
  const { values, vectors } = symmetricEigen(a);
  const tol = Math.max(0, ...values) * n * FLOAT32_EPS;
  const inv = values.map((l) => (l > tol ? 1 / l : 0));
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let k = 0; k < n; k++) s += vectors[i][k] * inv[k] * vectors[j][k];
      return s;
    }),
  );
}

/** Euclidean projection onto the probability simplex {x ≥ 0, Σx = 1} (MGDA-UB's `_projection2simplex`). */
export function projectToSimplex(y: number[]): number[] {
  const m = y.length;
  const sorted = [...y].sort((a, b) => b - a);
  let tmax = (sum(y) - 1) / m;
  let partial = 0;
  for (let i = 0; i < m - 1; i++) {
    partial += sorted[i];
    const t = (partial - 1) / (i + 1);
    if (t > sorted[i + 1]) {
      tmax = t;
      break;
    }
  }
  return y.map((v) => Math.max(v - tmax, 0));
}

/**
 * min over γ ∈ [0, 1] of |γ v1 + (1−γ) v2|² from the three inner products, exactly
 * (MGDA-UB's `_min_norm_element_from2` clamps γ to [0.001, 0.999] instead).
 */
export function minNormOfTwo(v1v1: number, v1v2: number, v2v2: number): { gamma: number; cost: number } {
  if (v1v2 >= v1v1) return { gamma: 1, cost: v1v1 };
  if (v1v2 >= v2v2) return { gamma: 0, cost: v2v2 };
  const gamma = (v2v2 - v1v2) / (v1v1 + v2v2 - 2 * v1v2);
  return { gamma, cost: v2v2 + gamma * (v1v2 - v2v2) };
}

/**
 * The weights x on the simplex of the min-norm point Σ x_t g_t of the convex hull
 * of the gradients, from their Gram matrix: the Frank–Wolfe-type solver of MGDA-UB
 * (Sener and Koltun 2018; LibMTL `MGDA._find_min_norm_element`). Best pair by the
 * closed form, then up to 250 steps along the projected gradient with an exact line
 * search, stopping when the weights move less than 1e-5 (L1).
 */
export function minNormElement(g: Matrix): number[] {
  const n = g.length;
  if (n === 1) return [1];
  let best = { i: 0, j: 1, gamma: 1, cost: Infinity };
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const { gamma, cost } = minNormOfTwo(g[i][i], g[i][j], g[j][j]);
      if (cost < best.cost) best = { i, j, gamma, cost };
    }
  }
  let sol = new Array<number>(n).fill(0);
  sol[best.i] = best.gamma;
  sol[best.j] = 1 - best.gamma;
  if (n < 3) return sol;

  for (let iter = 0; iter < 250; iter++) {
    const next = nextPoint(sol, matVec(g, sol).map((x) => -x));
    const { gamma } = minNormOfTwo(bilinear(g, sol, sol), bilinear(g, sol, next), bilinear(g, next, next));
    const updated = sol.map((s, k) => gamma * s + (1 - gamma) * next[k]);
    const change = sum(updated.map((u, k) => Math.abs(u - sol[k])));
    if (change < 1e-5) return sol;
    sol = updated;
  }
  return sol;
}

/** MGDA-UB's `_next_point`: a step along the gradient projected on Σx = 0, as long as the box allows, then onto the simplex. */
function nextPoint(x: number[], grad: number[]): number[] {
  const n = x.length;
  const mean = sum(grad) / n;
  const proj = grad.map((v) => v - mean);
  const toZero = proj.flatMap((p, k) => (p < 0 ? [-x[k] / p] : [])).filter((t) => t > 1e-7);
  const toOne = proj.flatMap((p, k) => (p > 0 ? [(1 - x[k]) / p] : [])).filter((t) => t > 1e-7);
  let t = 1;
  if (toZero.length > 0) t = Math.min(...toZero);
  if (toOne.length > 0) t = Math.min(t, ...toOne);
  return projectToSimplex(proj.map((p, k) => p * t + x[k]));
}

/**
 * Minimizes a smooth convex f over the probability simplex: accelerated projected
 * gradient (FISTA, Beck and Teboulle 2009) with a backtracking step and a restart
 * whenever f rises. Stops when an iterate moves less than `tol` (max-norm).
 */
export function minimizeOnSimplex(
  f: (x: number[]) => number,
  grad: (x: number[]) => number[],
  x0: number[],
  options: { maxIter?: number; tol?: number } = {},
): number[] {
  const maxIter = options.maxIter ?? 5000;
  const tol = options.tol ?? 1e-12;
  let x = projectToSimplex(x0);
  let fx = f(x);
  let y = x;
  let t = 1;
  let lipschitz = 1;
  for (let iter = 0; iter < maxIter; iter++) {
    const fy = f(y);
    const gy = grad(y);
    lipschitz /= 2;
    let z: number[];
    let fz: number;
    for (;;) {
      z = projectToSimplex(y.map((v, k) => v - gy[k] / lipschitz));
      fz = f(z);
      const step = z.map((v, k) => v - y[k]);
      if (fz <= fy + vdot(gy, step) + (lipschitz / 2) * vdot(step, step) + 1e-15 * Math.abs(fy) || lipschitz > 1e300) break;
      lipschitz *= 2;
    }
    if (fz > fx) {
      // Momentum overshot: restart from x.
      if (y === x) return x;
      y = x;
      t = 1;
      continue;
    }
    const moved = Math.max(...z.map((v, k) => Math.abs(v - x[k])));
    const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    y = z.map((v, k) => v + ((t - 1) / tNext) * (v - x[k]));
    x = z;
    fx = fz;
    t = tNext;
    if (moved < tol) break;
  }
  return x;
}

/**
 * min ½ xᵀQx + pᵀx subject to x ≥ 0, for a symmetric positive definite Q: the
 * primal active-set method (Nocedal and Wright, Algorithm 16.3), exact up to
 * rounding and finite for positive definite Q.
 */
export function nonnegativeQP(q: Matrix, p: number[]): number[] {
  const n = p.length;
  const x = new Array<number>(n).fill(0);
  const free = new Array<boolean>(n).fill(false);
  const tol = 1e-13 * Math.max(1e-300, ...p.map(Math.abs), ...q.map((row, i) => Math.abs(row[i])));
  for (let iter = 0; iter < 10 * n + 100; iter++) {
    const f = free.flatMap((isFree, i) => (isFree ? [i] : []));
    // Minimizer with the bound indices held at 0.
    const target = f.length === 0 ? [] : solveLinear(f.map((i) => f.map((j) => q[i][j])), f.map((i) => -p[i]));
    if (target === null) throw new Error('nonnegativeQP: the matrix is singular on the free set');
    const blocking = f.map((i, k) => ({ i, k })).filter(({ i, k }) => target[k] < x[i] && target[k] < 0);
    if (blocking.length === 0) {
      f.forEach((i, k) => (x[i] = target[k]));
      const gradient = matVec(q, x).map((g, i) => g + p[i]);
      let enter = -1;
      for (let i = 0; i < n; i++) if (!free[i] && gradient[i] < -tol && (enter < 0 || gradient[i] < gradient[enter])) enter = i;
      if (enter < 0) return x;
      free[enter] = true;
    } else {
      let alpha = 1;
      let leave = blocking[0].i;
      for (const { i, k } of blocking) {
        const a = x[i] / (x[i] - target[k]);
        if (a < alpha) [alpha, leave] = [a, i];
      }
      f.forEach((i, k) => (x[i] += alpha * (target[k] - x[i])));
      x[leave] = 0;
      free[leave] = false;
    }
  }
  return x.map((v) => Math.max(v, 0));
}
