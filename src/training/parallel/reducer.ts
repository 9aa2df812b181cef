/**
 * Combines the shards of a data-parallel step. Each replica packs its shard's
 * losses and gradients scaled by its share of the batch (so the sum is the mean over
 * the whole batch), plus its batch-norm moving statistics (averaged, so the replicas
 * stay identical), and every replica unpacks the same sums.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { LocalStep, StepReducer } from '../step';
import type { Collective } from './collective';

/** Batch-norm moving mean and variance: the non-trainable weights replicas must agree on. */
export function movingStatistics(model: tfl.LayersModel): tf.Variable[] {
  return model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
}

/** Floats one reduce carries: 2 + 2 per task (losses, representation norms), a has-gradient flag per weight, every weight and moving statistic. */
export function reduceLength(tasks: number, variables: tf.Variable[], statistics: tf.Variable[]): number {
  return 2 + 2 * tasks + variables.length + variables.reduce((n, v) => n + v.size, 0) + statistics.reduce((n, v) => n + v.size, 0);
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
    const out = new Float32Array(reduceLength(tasks, variables, this.statistics));
    let o = 0;
    for (const l of local.taskLosses) out[o++] = w * l;
    out[o++] = w * local.total;
    out[o++] = w * local.penalty;
    // ‖∂L/∂h‖² of the whole batch is Σ over shards of (share · shard norm)², h being per sample.
    for (let t = 0; t < tasks; t++) out[o++] = w * w * (local.representationGradNormsSq?.[t] ?? 0);
    // A replica whose shard is empty has no gradients; the flags tell it which weights the others update.
    for (const v of variables) out[o++] = local.grads[v.name] ? 1 : 0;
    for (const v of variables) {
      const g = local.grads[v.name];
      if (g) {
        const values = g.dataSync();
        for (let i = 0; i < values.length; i++) out[o + i] = w * values[i];
      }
      o += v.size;
    }
    const replicas = this.collective.size;
    for (const s of this.statistics) {
      const values = s.dataSync();
      for (let i = 0; i < values.length; i++) out[o + i] = values[i] / replicas;
      o += s.size;
    }

    const sum = this.collective.allReduceSum(out);
    o = 0;
    const taskLosses = Array.from(sum.subarray(o, (o += tasks)));
    const total = sum[o++];
    const penalty = sum[o++];
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
    return { taskLosses, total, penalty, representationGradNormsSq: repNormsSq.some((v) => v > 0) ? repNormsSq : local.representationGradNormsSq, grads };
  }
}
