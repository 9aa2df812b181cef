/**
 * UPGrad (Quinton and Rey 2024, "Jacobian Descent for Multi-Objective Optimization"),
 * as TorchJD `UPGrad`: each g_i, scaled by its preference p_i, is projected onto
 * the dual cone {v : g_t·v ≥ 0 for all t}, and the projections are summed. By their
 * Proposition 1 the projection of Σ u_t g_t is Σ w_t g_t with w = argmin_{w ≥ u} wᵀGw,
 * solved here on the Gram matrix normalized by its trace and regularized by reg_eps·I.
 */
import { matVec, nonnegativeQP, sum } from './linalg';
import { gramMethod, type GradientMethodFactory } from './types';

export interface UpgradOptions {
  /** Weights of the projected gradients; null: the mean, 1/T each (TorchJD's default). */
  pref_vector: number[] | null;
  /** Below this squared Frobenius norm (trace of G) the Gram matrix counts as zero. */
  norm_eps: number;
  /** Added to the normalized Gram matrix's diagonal to keep it positive definite. */
  reg_eps: number;
}

export const upgradDefaults: Readonly<UpgradOptions> = { pref_vector: null, norm_eps: 1e-4, reg_eps: 1e-4 };

export const createUpgrad: GradientMethodFactory<Partial<UpgradOptions>> = (options, taskCount) => {
  const { pref_vector, norm_eps, reg_eps } = { ...upgradDefaults, ...options };
  if (pref_vector !== null && (pref_vector.length !== taskCount || !pref_vector.every(Number.isFinite))) {
    throw new RangeError(`upgrad: pref_vector must hold ${taskCount} finite numbers`);
  }
  if (!(norm_eps >= 0) || !(reg_eps > 0)) throw new RangeError('upgrad: norm_eps must be ≥ 0 and reg_eps > 0');
  const pref = pref_vector ?? new Array<number>(taskCount).fill(1 / taskCount);
  return gramMethod('upgrad', taskCount, (raw) => {
    const n = raw.length;
    const trace = sum(raw.map((row, t) => row[t]));
    const g = raw.map((row, i) => row.map((v, j) => (trace < norm_eps ? 0 : v / trace) + (i === j ? reg_eps : 0)));
    const weights = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) {
      // w = u + z with z ≥ 0 minimizing (u + z)ᵀG(u + z).
      const u = pref.map((p, t) => (t === i ? p : 0));
      const z = nonnegativeQP(g, matVec(g, u));
      for (let t = 0; t < n; t++) weights[t] += u[t] + z[t];
    }
    return weights;
  });
};
