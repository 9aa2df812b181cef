/**
 * Inter-task affinity (Fifty et al. 2021, "Efficiently Identifying Task Groupings in
 * Multi-Task Learning"): during one joint training run, every `every` steps, a
 * lookahead step on task a's gradient alone moves the shared weights,
 * θ' = θ − η·∇_θ L_a, and the relative change of every task b's loss on the same batch,
 *
 *   Z_{a→b} = 1 − L_b(θ') / L_b(θ),
 *
 * says whether learning a helps b (> 0) or hurts it (< 0). Averaged over training it
 * gives the affinity matrix; the best split of the tasks into k groups maximizes the
 * affinity each task receives from its groupmates. The lookahead runs in inference
 * mode (no dropout, no batch-norm update) and the weights are put back exactly, so the
 * training run itself is unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TaskConfig } from '../config/schema';
import type { MultiTaskNetwork } from '../models/network';
import { asArray, modelInput } from './evaluate';
import { taskLoss, type TaskTarget } from './losses';

export class AffinityTracker {
  private readonly sums: number[][];
  private measured = 0;

  constructor(
    private readonly tasks: TaskConfig[],
    /** η of the lookahead step. */
    private readonly learningRate: number,
  ) {
    this.sums = tasks.map(() => new Array<number>(tasks.length).fill(0));
  }

  get steps(): number {
    return this.measured;
  }

  /** Adds one batch's Z_{a→b} for every pair; the network's weights are left as they were. */
  measure(network: MultiTaskNetwork, x: tf.Tensor[], targets: TaskTarget[]): void {
    const shared = network.shared;
    if (shared.length === 0) return;
    const losses = (): number[] =>
      tf.tidy(() => {
        const outputs = asArray(network.model.apply(modelInput(x), { training: false }));
        return Array.from(tf.stack(this.tasks.map((task, t) => taskLoss(task, outputs[t], targets[t]))).dataSync());
      });
    const base = losses();
    const saved = shared.map((v) => tf.clone(v));
    try {
      this.tasks.forEach((task, a) => {
        tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => {
            const outputs = asArray(network.model.apply(modelInput(x), { training: false }));
            return taskLoss(task, outputs[a], targets[a]);
          }, shared);
          value.dispose();
          for (const v of shared) if (grads[v.name]) v.assign(tf.sub(v, tf.mul(grads[v.name], this.learningRate)));
        });
        const after = losses();
        shared.forEach((v, k) => v.assign(saved[k]));
        after.forEach((loss, b) => (this.sums[a][b] += base[b] > 0 ? 1 - loss / base[b] : 0));
      });
      this.measured++;
    } finally {
      tf.dispose(saved);
    }
  }

  /** The mean Z_{a→b} over the measured steps (rows a, columns b). */
  matrix(): number[][] {
    return this.sums.map((row) => row.map((s) => (this.measured ? s / this.measured : NaN)));
  }
}

export interface Grouping {
  groups: number[][];
  /** Σ over tasks of the mean affinity onto it from its groupmates (0 alone). */
  score: number;
}

/** Σ_b mean_{a in b's group, a ≠ b} Z_{a→b}. */
export function groupingScore(groups: number[][], affinity: number[][]): number {
  let score = 0;
  for (const group of groups) {
    if (group.length < 2) continue;
    for (const b of group) score += group.filter((a) => a !== b).reduce((s, a) => s + affinity[a][b], 0) / (group.length - 1);
  }
  return score;
}

/** Every split of tasks 0..n−1 into exactly k non-empty groups (n is small: a few to ten tasks). */
export function partitions(n: number, k: number): number[][][] {
  const out: number[][][] = [];
  const groups: number[][] = [];
  const place = (task: number) => {
    if (task === n) {
      if (groups.length === k) out.push(groups.map((g) => [...g]));
      return;
    }
    if (n - task < k - groups.length) return;
    for (const g of groups) {
      g.push(task);
      place(task + 1);
      g.pop();
    }
    if (groups.length < k) {
      groups.push([task]);
      place(task + 1);
      groups.pop();
    }
  };
  place(0);
  return out;
}

/** The best split into k groups, for every k from 2 to `maxGroups` (at most the number of tasks). */
export function bestGroupings(affinity: number[][], maxGroups: number): (Grouping & { k: number })[] {
  const n = affinity.length;
  const result: (Grouping & { k: number })[] = [];
  for (let k = 2; k <= Math.min(maxGroups, n); k++) {
    let best: Grouping | undefined;
    for (const groups of partitions(n, k)) {
      const score = groupingScore(groups, affinity);
      if (!best || score > best.score) best = { groups, score };
    }
    if (best) result.push({ k, ...best });
  }
  return result;
}
