import type { Rng } from '../../data/rng';
import { combine, gram, type Matrix } from './linalg';

/**
 * Gradient-aggregation methods (MGDA, PCGrad, CAGrad, ...): pure math on flat
 * per-task gradients, no tfjs. The training step hands each task's gradient of the
 * shared part to `aggregate` and applies the returned direction as that part's
 * gradient; task heads keep their own gradients.
 */

/** Per-task gradients of the shared parameters (or of the shared representation), one flat vector per task, all the same length. */
export interface GradientSet {
  grads: Float32Array[];
  /** Each task's loss on the batch (MGDA's `loss` normalizations read it; the others ignore it). */
  losses: number[];
}

export interface AggregateContext {
  /** 1-based global step. */
  step: number;
  /** Seeded randomness for this step (methods that draw anything use only this). */
  rng: Rng;
}

export interface Aggregation {
  /** The update direction for the shared part (same length as each gradient); the optimizer applies it as a gradient. */
  direction: Float32Array;
  /**
   * The weight each task effectively got, logged as weight/<task>. Every method here
   * combines the task gradients linearly, so direction = Σ_t weights[t]·grads[t]
   * holds for all of them (PCGrad: the implied coefficients of its projections;
   * CAGrad and Nash-MTL: after rescaling and clipping).
   */
  weights: number[];
}

export interface GradientMethod {
  readonly name: string;
  aggregate(set: GradientSet, context: AggregateContext): Aggregation;
  /** JSON-safe state for checkpoints (exact resume); setState restores it exactly. Stateless methods return {}. */
  getState(): object;
  setState(state: object): void;
}

export type GradientMethodFactory<O> = (options: O, taskCount: number) => GradientMethod;

/** Throws unless `set` holds `taskCount` gradients of one length (and as many losses). */
export function checkGradientSet(set: GradientSet, taskCount: number, method: string): void {
  if (set.grads.length !== taskCount) {
    throw new RangeError(`${method}: expected ${taskCount} task gradients, got ${set.grads.length}`);
  }
  if (set.losses.length !== taskCount) {
    throw new RangeError(`${method}: expected ${taskCount} losses, got ${set.losses.length}`);
  }
  const size = set.grads[0].length;
  if (set.grads.some((g) => g.length !== size)) {
    throw new RangeError(`${method}: task gradients differ in length (${set.grads.map((g) => g.length).join(', ')})`);
  }
}

/** The state hooks of a method that has any. */
export interface MethodState {
  get(): object;
  set(state: object): void;
}

/**
 * A method whose weights follow from the Gram matrix G[i][j] = g_i·g_j (float64):
 * `aggregate` checks the set's shape, hands G to `weigh`, and returns Σ w_t g_t.
 * Non-finite gradients give NaN weights and a NaN direction without calling `weigh`,
 * so the training step's divergence check reports them rather than a solver failing.
 */
export function gramMethod(
  name: string,
  taskCount: number,
  weigh: (g: Matrix, set: GradientSet, context: AggregateContext) => number[],
  state: MethodState = { get: () => ({}), set: () => {} },
): GradientMethod {
  if (!Number.isInteger(taskCount) || taskCount < 1) throw new RangeError(`${name}: taskCount must be a positive integer`);
  return {
    name,
    aggregate(set, context) {
      checkGradientSet(set, taskCount, name);
      const g = gram(set.grads);
      if (!g.every((row) => row.every(Number.isFinite))) {
        return { direction: new Float32Array(set.grads[0].length).fill(NaN), weights: new Array<number>(taskCount).fill(NaN) };
      }
      const weights = weigh(g, set, context);
      return { direction: combine(set.grads, weights), weights };
    },
    getState: () => state.get(),
    setState: (saved) => state.set(saved),
  };
}
