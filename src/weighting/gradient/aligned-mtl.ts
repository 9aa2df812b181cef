/**
 * Aligned-MTL (Senushkin et al. 2023, "Independent Component Alignment for Multi-Task
 * Learning", Algorithm 1), as LibMTL `Aligned_MTL` and the official code (scale_mode
 * 'min'): with the Gram matrix M = V Λ Vᵀ cut to its numerical rank R, the balance
 * B = √λ_R · V Λ^(-1/2) Vᵀ makes the aligned gradients ĝ_t = Σ_s B_ts g_s orthogonal with
 * equal norms √λ_R; the direction is their sum, so the weights are B·1.
 */
import { FLOAT32_EPS, symmetricEigen } from './linalg';
import { gramMethod, type GradientMethodFactory } from './types';

export type AlignedMtlOptions = Record<string, never>;

export const alignedMtlDefaults: Readonly<AlignedMtlOptions> = {};

export const createAlignedMtl: GradientMethodFactory<Partial<AlignedMtlOptions>> = (_options, taskCount) =>
  gramMethod('aligned_mtl', taskCount, (g) => {
    const n = g.length;
    const { values, vectors } = symmetricEigen(g);
    const tol = Math.max(...values) * n * FLOAT32_EPS;
    const kept = values.flatMap((l, k) => (l > tol ? [k] : []));
    // No direction to align (all gradients zero): plain sum, as TorchJD's identity balance.
    if (kept.length === 0) return new Array<number>(n).fill(1);
    const smallest = Math.min(...kept.map((k) => values[k]));
    const columnSums = kept.map((k) => vectors.reduce((acc, row) => acc + row[k], 0));
    return Array.from({ length: n }, (_, t) =>
      kept.reduce((s, k, r) => s + (Math.sqrt(smallest) * vectors[t][k] * columnSums[r]) / Math.sqrt(values[k]), 0),
    );
  });
