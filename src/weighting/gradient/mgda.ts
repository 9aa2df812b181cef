/**
 * MGDA-UB (Sener and Koltun 2018, "Multi-Task Learning as Multi-Objective
 * Optimization"): the direction is the min-norm point of the convex hull
 * of the task gradients, optionally normalized first (LibMTL `MGDA`, `mgda_gn`).
 */
import { minNormElement } from './linalg';
import { gramMethod, type GradientMethodFactory } from './types';

export const mgdaNormalizations = ['none', 'l2', 'loss', 'loss+'] as const;

export interface MgdaOptions {
  /** LibMTL `mgda_gn`: divide g_t by 1 (none), |g_t| (l2), L_t (loss) or L_t·|g_t| (loss+) before solving. */
  normalization: (typeof mgdaNormalizations)[number];
}

export const mgdaDefaults: Readonly<MgdaOptions> = { normalization: 'none' };

export const createMgda: GradientMethodFactory<Partial<MgdaOptions>> = (options, taskCount) => {
  const { normalization } = { ...mgdaDefaults, ...options };
  if (!mgdaNormalizations.includes(normalization)) throw new RangeError(`mgda: unknown normalization '${normalization}'`);
  return gramMethod('mgda', taskCount, (gram, { losses }) => {
    const divisors = losses.map((loss, t) => {
      const length = Math.sqrt(gram[t][t]);
      const d = normalization === 'l2' ? length : normalization === 'loss' ? loss : normalization === 'loss+' ? loss * length : 1;
      // A zero gradient (or loss) stays as it is rather than becoming NaN.
      return d > 0 && Number.isFinite(d) ? d : 1;
    });
    const normalized = gram.map((row, i) => row.map((v, j) => v / (divisors[i] * divisors[j])));
    return minNormElement(normalized).map((x, t) => x / divisors[t]);
  });
};
