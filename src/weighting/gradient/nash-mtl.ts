/**
 * Nash-MTL (Navon et al. 2022, "Multi-Task Learning as a Bargaining Game"): the
 * bargaining solution α > 0 with (Gα)_t = 1/α_t for every task, the
 * direction d = Σ α_t g_t clipped to norm max_norm; α is recomputed every
 * `update_weights_every` steps and reused in between (LibMTL `Nash_MTL`, official code).
 *
 * The paper and LibMTL approach α by up to `optim_niter` convex programs (CCP, cvxpy).
 * Here α is the unique minimizer of the strictly convex F(α) = ½αᵀGα − Σ log α_t, whose
 * stationarity condition is exactly that system, found by up to `optim_niter` Newton steps
 * with a backtracking line search on G/|G|_F (LibMTL's normalization), warm-started from
 * the previous α. The system has a solution exactly when 0 is not in the convex hull of
 * the gradients (MGDA's min norm > 0); a solve that does not reach max_t |α_t(Gα)_t − 1|
 * < 1e-3 keeps the previous α, as LibMTL does when cvxpy fails.
 */
import { bilinear, matVec, solveLinear, sum, type Matrix } from './linalg';
import { gramMethod, type GradientMethodFactory } from './types';

export interface NashMtlOptions {
  /** Clip the direction to this norm (LibMTL clips the shared parameters' gradient); 0 turns clipping off. */
  max_norm: number;
  /** Recompute α on steps 1, 1 + k, 1 + 2k, ... and reuse it in between. */
  update_weights_every: number;
  /** Most solver iterations per update (LibMTL: CCP iterations; here Newton steps). */
  optim_niter: number;
}

export const nashMtlDefaults: Readonly<NashMtlOptions> = { max_norm: 1.0, update_weights_every: 1, optim_niter: 20 };

/** Residual of the bargaining system, max_t |α_t(Gα)_t − 1|. */
export function nashResidual(g: Matrix, alpha: number[]): number {
  return Math.max(...matVec(g, alpha).map((v, t) => Math.abs(alpha[t] * v - 1)));
}

/**
 * α > 0 with α_t(Gα)_t = 1 for the Gram matrix G, from the warm start `init`
 * (any positive vector), or null when `iterations` Newton steps do not get there.
 */
export function solveNash(gramMatrix: Matrix, init: number[], iterations: number): number[] | null {
  const n = init.length;
  const frobenius = Math.sqrt(sum(gramMatrix.flat().map((v) => v * v)));
  if (!(frobenius > 0) || !Number.isFinite(frobenius)) return null;
  const g = gramMatrix.map((row) => row.map((v) => v / frobenius));
  const objective = (b: number[]) => 0.5 * bilinear(g, b, b) - sum(b.map(Math.log));
  // Solved for β = α·√|G|_F; start from the best multiple of the warm start.
  let beta = init.map((a) => (a > 0 && Number.isFinite(a) ? a : 1));
  const curvature = bilinear(g, beta, beta);
  if (curvature > 0) beta = beta.map((b) => b * Math.sqrt(n / curvature));
  for (let iter = 0; iter < iterations && nashResidual(g, beta) > 1e-10; iter++) {
    const gradient = matVec(g, beta).map((v, t) => v - 1 / beta[t]);
    const hessian = g.map((row, i) => row.map((v, j) => (i === j ? v + 1 / (beta[i] * beta[i]) : v)));
    const step = solveLinear(hessian, gradient.map((v) => -v));
    if (step === null) break;
    // Newton decrement²; F is self-concordant, so below 0.1 the full step is safe and converges quadratically.
    const decrement = -sum(step.map((s, t) => s * gradient[t]));
    if (decrement < 1e-24) break;
    let size = 1;
    let next = beta.map((b, t) => b + step[t]);
    if (decrement >= 0.1) {
      const before = objective(beta);
      while ((next.some((b) => b <= 0) || objective(next) > before - 1e-4 * size * decrement) && size > 1e-12) {
        size /= 2;
        next = beta.map((b, t) => b + size * step[t]);
      }
    }
    beta = next;
  }
  if (!beta.every((b) => b > 0 && Number.isFinite(b)) || nashResidual(g, beta) >= 1e-3) return null;
  return beta.map((b) => b / Math.sqrt(frobenius));
}

export const createNashMtl: GradientMethodFactory<Partial<NashMtlOptions>> = (options, taskCount) => {
  const { max_norm, update_weights_every, optim_niter } = { ...nashMtlDefaults, ...options };
  if (!(max_norm >= 0)) throw new RangeError(`nash_mtl: max_norm must be ≥ 0, got ${max_norm}`);
  if (!Number.isInteger(update_weights_every) || update_weights_every < 1) {
    throw new RangeError(`nash_mtl: update_weights_every must be a positive integer, got ${update_weights_every}`);
  }
  if (!Number.isInteger(optim_niter) || optim_niter < 1) throw new RangeError(`nash_mtl: optim_niter must be a positive integer, got ${optim_niter}`);
  // LibMTL starts from α = 1.
  let alpha = new Array<number>(Math.max(0, taskCount)).fill(1);
  const state = {
    get: () => ({ alpha: [...alpha] }),
    set(saved: object) {
      const a = (saved as { alpha?: unknown }).alpha;
      if (!Array.isArray(a) || a.length !== taskCount || !a.every((v) => typeof v === 'number' && v > 0 && Number.isFinite(v))) {
        throw new Error(`nash_mtl: the saved state needs alpha, ${taskCount} positive numbers`);
      }
      alpha = [...a];
    },
  };
  return gramMethod(
    'nash_mtl',
    taskCount,
    (g, _set, { step }) => {
      if ((step - 1) % update_weights_every === 0) alpha = solveNash(g, alpha, optim_niter) ?? alpha;
      if (max_norm === 0) return [...alpha];
      // torch.nn.utils.clip_grad_norm_ on d = Σ α_t g_t
      const scale = max_norm / (Math.sqrt(Math.max(0, bilinear(g, alpha, alpha))) + 1e-6);
      return alpha.map((a) => (scale < 1 ? a * scale : a));
    },
    state,
  );
};
