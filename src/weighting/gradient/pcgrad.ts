/**
 * PCGrad (Yu et al. 2020, "Gradient Surgery for Multi-Task Learning", Algorithm 1), as
 * LibMTL `PCGrad`: each task's gradient, visiting all tasks in a fresh random order,
 * drops its component along every task gradient it conflicts with (pc_i·g_j < 0); the
 * direction is the sum of the projected gradients.
 */
import { identity, vdot } from './linalg';
import { gramMethod, type GradientMethodFactory } from './types';

export type PcgradOptions = Record<string, never>;

export const pcgradDefaults: Readonly<PcgradOptions> = {};

export const createPcgrad: GradientMethodFactory<Partial<PcgradOptions>> = (_options, taskCount) =>
  gramMethod('pcgrad', taskCount, (g, _set, { rng }) => {
    const n = g.length;
    // The projections run on coefficients: pc_i = Σ_j c[i][j] g_j, so pc_i·g_j = c[i]·G[j].
    const c = identity(n);
    for (let i = 0; i < n; i++) {
      for (const j of rng.shuffle(Array.from({ length: n }, (_, k) => k))) {
        const conflict = vdot(c[i], g[j]);
        if (conflict < 0) c[i][j] -= conflict / g[j][j];
      }
    }
    return Array.from({ length: n }, (_, j) => c.reduce((s, row) => s + row[j], 0));
  });
