/**
 * IMTL-G (Liu et al. 2021, "Towards Impartial Multi-task Learning"): the
 * direction d = Σ α_t g_t with Σ α_t = 1 whose projections onto the unit task gradients
 * are all equal (d·u_t the same for every t). From the Gram matrix, α ∝ G⁺·(|g_t|)_t
 * (TorchJD `IMTLG`); for linearly independent gradients this is LibMTL's closed form
 * α_{2..T} = g_1Uᵀ(DUᵀ)⁻¹ with D = g_1 − g_t, U = u_1 − u_t, α_1 = 1 − Σ α_{2..T}.
 * Only the gradient part: IMTL-L's loss scales are a loss-level weighting.
 */
import { matVec, psdPseudoInverse, sum } from './linalg';
import { gramMethod, type GradientMethodFactory } from './types';

export type ImtlOptions = Record<string, never>;

export const imtlDefaults: Readonly<ImtlOptions> = {};

export const createImtl: GradientMethodFactory<Partial<ImtlOptions>> = (_options, taskCount) =>
  gramMethod('imtl', taskCount, (g) => {
    const v = matVec(psdPseudoInverse(g), g.map((row, t) => Math.sqrt(row[t])));
    const total = sum(v);
    return Math.abs(total) < 1e-12 ? v.map(() => 0) : v.map((x) => x / total);
  });
