/**
 * Combines the shards of a data-parallel step. Each replica packs its shard's
 * losses and gradients scaled by its share of the batch (so the sum is the mean over
 * the whole batch), plus its batch-norm moving statistics (averaged, so the replicas
 * stay identical), and every replica unpacks the same sums.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { LocalStep, StepReducer } from '../step';
import { hostValues, writableHostValues } from '../../backends';
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
  return scalarCount(tasks, terms, variables) + variables.reduce((n, v) => n + v.size, 0) + statistics.reduce((n, v) => n + v.size, 0) + taskGradients;
}

/** The reduce's scalars, ahead of the gradients: the total, 2 per task, one per loss term, a flag per weight. */
const scalarCount = (tasks: number, terms: number, variables: tf.Variable[]) => 1 + 2 * tasks + terms + variables.length;

/**
 * Floats the shared memory holds per rank: the values are reduced a chunk of at most
 * 1M floats (4 MB) at a time, so a ResNet-50's 23.6M gradients need 12 MB of shared
 * memory, not three copies of the gradients (283 MB).
 */
export function collectiveLength(reduceFloats: number): number {
  return Math.min(reduceFloats, REDUCE_CHUNK);
}

const REDUCE_CHUNK = 1 << 20;

/**
 * A run of the values reduced: read from `from` (undefined: zeros) scaled by `scale`, the
 * sum written to `to`; with `byShare`, each replica's values are multiplied by its share of
 * the batch in the sum (SIMD, in the collective) rather than here.
 */
export interface Segment {
  from: Float32Array | undefined;
  scale: number;
  to: Float32Array;
  byShare?: boolean;
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
    const scalars = new Float32Array(scalarCount(tasks, terms, variables));
    let o = 0;
    for (const l of local.taskLosses) scalars[o++] = w * l;
    scalars[o++] = w * local.total;
    for (const value of local.terms) scalars[o++] = w * value;
    // ‖∂L/∂h‖² of the whole batch is Σ over shards of (share · shard norm)², h being per sample.
    for (let t = 0; t < tasks; t++) scalars[o++] = w * w * (local.representationGradNormsSq?.[t] ?? 0);
    // A replica whose shard is empty has no gradients; the flags tell it which weights the others update.
    for (const v of variables) scalars[o++] = local.grads[v.name] ? 1 : 0;

    // The scalars, then the gradients, moving statistics and per-task gradients, a chunk
    // at a time. A gradient tensor that alone owns its memory gets the sum in place (no
    // second copy of the gradients on the heap); views are taken after the last allocation.
    // Gradients are multiplied by this replica's share in the sum itself.
    this.collective.setShare(w);
    const segments: Segment[] = [{ from: scalars, scale: 1, to: scalars }];
    const sums = variables.map((v) => {
      const g = local.grads[v.name];
      const inPlace = g && writableHostValues(g);
      const segment = inPlace ? { from: inPlace, scale: 1, to: inPlace, byShare: true } : { from: g && hostValues(g), scale: 1, to: new Float32Array(v.size), byShare: true };
      segments.push(segment);
      return { v, g: inPlace ? g : undefined, to: segment.to };
    });
    const replicas = this.collective.size;
    const statistics = this.statistics.map((s) => {
      const to = new Float32Array(s.size);
      segments.push({ from: hostValues(s), scale: 1 / replicas, to });
      return to;
    });
    const taskGrads = local.taskGrads?.map((g) => {
      const to = new Float32Array(g.length);
      segments.push({ from: g, scale: 1, to, byShare: true });
      return to;
    });
    reduceInChunks(this.collective, segments);

    o = 0;
    const taskLosses = Array.from(scalars.subarray(o, (o += tasks)));
    const total = scalars[o++];
    const termValues = Array.from(scalars.subarray(o, (o += terms)));
    const repNormsSq = Array.from(scalars.subarray(o, (o += tasks)));
    const grads: tf.NamedTensorMap = {};
    sums.forEach(({ v, g, to }) => {
      if (scalars[o++] > 0) grads[v.name] = g ?? tf.tensor(to, v.shape, 'float32');
    });
    this.statistics.forEach((s, k) => s.assign(tf.tensor(statistics[k], s.shape, 'float32')));
    return { taskLosses, total, terms: termValues, representationGradNormsSq: repNormsSq.some((v) => v > 0) ? repNormsSq : local.representationGradNormsSq, grads, taskGrads };
  }
}


/** Σ over the replicas of every segment, in order, through chunks of the collective's shared memory. */
export function reduceInChunks(collective: Pick<Collective, 'length' | 'ownSlot' | 'allReduceSum'>, segments: Segment[]): void {
  const chunk = collective.length;
  let seg = 0;
  let at = 0;
  while (seg < segments.length) {
    const slot = collective.ownSlot(chunk);
    // Fill the chunk from the segments, remembering where each piece came from.
    const pieces: { segment: Segment; start: number; offset: number; n: number }[] = [];
    let filled = 0;
    while (filled < chunk && seg < segments.length) {
      const segment = segments[seg];
      const n = Math.min(segment.to.length - at, chunk - filled);
      const { from, scale } = segment;
      if (from && scale === 1) slot.set(from.subarray(at, at + n), filled);
      else if (from) for (let i = 0; i < n; i++) slot[filled + i] = scale * from[at + i];
      else slot.fill(0, filled, filled + n);
      pieces.push({ segment, start: at, offset: filled, n });
      filled += n;
      at += n;
      if (at === segment.to.length) {
        seg++;
        at = 0;
      }
    }
    const shareRuns = pieces.filter((p) => p.segment.byShare).map(({ offset, n }) => ({ offset, n }));
    const sum = collective.allReduceSum(filled, shareRuns);
    for (const { segment, start, offset, n } of pieces) segment.to.set(sum.subarray(offset, offset + n), start);
  }
}
