/**
 * Combines the shards of a data-parallel step. Each replica packs its shard's
 * losses and gradients scaled by its share of the batch (so the sum is the mean over
 * the whole batch), plus its batch-norm moving statistics (averaged, so the replicas
 * stay identical), and every replica unpacks the same sums.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { LocalStep, StepReducer } from '../step';
import { hostValues } from '../../backends';
import type { Collective } from './collective';

/** Batch-norm moving mean and variance: the non-trainable weights replicas must agree on. */
export function movingStatistics(model: tfl.LayersModel): tf.Variable[] {
  return model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * Floats one reduce carries: the total, 2 per task (losses, representation norms), one
 * per loss term, a has-gradient flag per weight, every weight and moving statistic, and
 * a gradient method's per-task gradients of the shared weights.
 */
export function reduceLength(tasks: number, terms: number, variables: tf.Variable[], statistics: tf.Variable[], taskGradients: number): number {
  return 1 + 2 * tasks + terms + variables.length + variables.reduce((n, v) => n + v.size, 0) + statistics.reduce((n, v) => n + v.size, 0) + taskGradients;
}

export class DataParallelReducer implements StepReducer {
  /** This replica's share of the current batch (its rows / all rows). */
  share = 1;

  constructor(
    private readonly collective: Collective,
    private readonly statistics: tf.Variable[],
  ) {}

  reduce(local: LocalStep, variables: tf.Variable[]): LocalStep {
    const tasks = local.taskLosses.length;
    const w = this.share;
    const terms = local.terms.length;
    const taskGradients = local.taskGrads ? tasks * local.taskGrads[0].length : 0;
    const length = reduceLength(tasks, terms, variables, this.statistics, taskGradients);
    const out = this.collective.ownSlot(length);
    let o = 0;
    for (const l of local.taskLosses) out[o++] = w * l;
    out[o++] = w * local.total;
    for (const value of local.terms) out[o++] = w * value;
    // ‖∂L/∂h‖² of the whole batch is Σ over shards of (share · shard norm)², h being per sample.
    for (let t = 0; t < tasks; t++) out[o++] = w * w * (local.representationGradNormsSq?.[t] ?? 0);
    // A replica whose shard is empty has no gradients; the flags tell it which weights the others update.
    for (const v of variables) out[o++] = local.grads[v.name] ? 1 : 0;
    for (const v of variables) {
      const g = local.grads[v.name];
      if (g) {
        const values = hostValues(g);
        for (let i = 0; i < values.length; i++) out[o + i] = w * values[i];
      } else out.fill(0, o, o + v.size);
      o += v.size;
    }
    const replicas = this.collective.size;
    for (const s of this.statistics) {
      const values = hostValues(s);
      for (let i = 0; i < values.length; i++) out[o + i] = values[i] / replicas;
      o += s.size;
    }
    for (const g of local.taskGrads ?? []) {
      for (let i = 0; i < g.length; i++) out[o + i] = w * g[i];
      o += g.length;
    }

    const sum = this.collective.allReduceSum(length);
    o = 0;
    const taskLosses = Array.from(sum.subarray(o, (o += tasks)));
    const total = sum[o++];
    const termValues = Array.from(sum.subarray(o, (o += terms)));
    const repNormsSq = Array.from(sum.subarray(o, (o += tasks)));
    const hasGrad = Array.from(sum.subarray(o, (o += variables.length)), (f) => f > 0);
    const grads: tf.NamedTensorMap = {};
    variables.forEach((v, k) => {
      if (hasGrad[k]) grads[v.name] = tf.tensor(sum.subarray(o, o + v.size), v.shape, 'float32');
      o += v.size;
    });
    for (const s of this.statistics) {
      s.assign(tf.tensor(sum.subarray(o, o + s.size), s.shape, 'float32'));
      o += s.size;
    }
    const taskGrads = local.taskGrads?.map((g) => sum.subarray(o, (o += g.length)));
    return { taskLosses, total, terms: termValues, representationGradNormsSq: repNormsSq.some((v) => v > 0) ? repNormsSq : local.representationGradNormsSq, grads, taskGrads };
  }
}
