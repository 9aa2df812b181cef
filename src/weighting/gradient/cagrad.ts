/**
 * CAGrad (Liu et al. 2021, "Conflict-Averse Gradient Descent for Multi-task Learning",
 * Algorithm 1), as LibMTL `CAGrad` and the official code: with g0 the mean gradient,
 * w = argmin over the simplex of g_wᵀg0 + c̃·|g_w| where c̃ = c·|g0|, then
 * d = (g0 + c̃/|g_w| · g_w) / r, r = 1 (rescale 0), 1 + c² (rescale 1) or 1 + c (rescale 2).
 * LibMTL's 1e-8 guards are kept; its SLSQP solve is replaced by `minimizeOnSimplex`.
 */
import { bilinear, matVec, minimizeOnSimplex, sum } from './linalg';
import { gramMethod, type GradientMethodFactory } from './types';

export interface CagradOptions {
  /** LibMTL `calpha`: radius of the ball around g0, relative to |g0|. */
  c: number;
  /** LibMTL `rescale`: 0 none, 1 divide by 1 + c², 2 divide by 1 + c. */
  rescale: 0 | 1 | 2;
}

export const cagradDefaults: Readonly<CagradOptions> = { c: 0.5, rescale: 1 };

export const createCagrad: GradientMethodFactory<Partial<CagradOptions>> = (options, taskCount) => {
  const { c, rescale } = { ...cagradDefaults, ...options };
  if (!(c >= 0) || !Number.isFinite(c)) throw new RangeError(`cagrad: c must be a finite number ≥ 0, got ${c}`);
  if (![0, 1, 2].includes(rescale)) throw new RangeError(`cagrad: rescale must be 0, 1 or 2, got ${rescale}`);
  const divisor = rescale === 0 ? 1 : rescale === 1 ? 1 + c * c : 1 + c;
  return gramMethod('cagrad', taskCount, (a) => {
    const n = a.length;
    const g0Norm = Math.sqrt(sum(a.flat()) / (n * n) + 1e-8);
    const radius = c * g0Norm + 1e-8;
    const mean = new Array<number>(n).fill(1 / n);
    const aMean = matVec(a, mean);
    const w = minimizeOnSimplex(
      (x) => sum(x.map((v, k) => v * aMean[k])) + radius * Math.sqrt(bilinear(a, x, x) + 1e-8),
      (x) => {
        const ax = matVec(a, x);
        const root = Math.sqrt(bilinear(a, x, x) + 1e-8);
        return aMean.map((v, k) => v + (radius * ax[k]) / root);
      },
      mean,
    );
    const lambda = radius / (Math.sqrt(Math.max(0, bilinear(a, w, w))) + 1e-8);
    return w.map((wt) => (1 / n + lambda * wt) / divisor);
  });
};
