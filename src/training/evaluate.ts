/**
 * Scoring a model on a split: losses as training computes them, and metrics in
 * the target's own units (regression outputs are de-standardized first).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { TaskConfig } from '../config/schema';
import type { Preprocessing, Split, TargetTransform } from '../data/types';
import { gatherBatch } from '../data/batches';
import { classColumn, labelledRows, selectRows } from '../data/labels';
import { DEFAULT_TOP_K } from '../data/targets';
import { taskLoss, taskTarget } from './losses';
import { withFoldedBatchNorms } from '../models/inference-fold';
import type { InferencePool } from './parallel/inference-pool';
import { classificationMetrics, multilabelMetrics, regressionMetrics } from './metrics';

export interface TaskEvaluation {
  loss: number;
  metrics: Record<string, number>;
  /** Rows the task was scored on: those that carry its label. */
  n: number;
}

export interface Evaluation {
  /** Σ weight_t · loss_t with the config's weights. */
  loss: number;
  tasks: Record<string, TaskEvaluation>;
}

/** Model outputs for a whole split: per task, n x units (logits or standardized values). */
export type RawOutputs = Record<string, Float32Array>;

/** Rows per inference batch (eval, predict): the unit of work of each inference thread. */
export const INFERENCE_BATCH = 256;

/**
 * Runs the model in inference mode over `split`; returns raw outputs and, per task,
 * the mean loss over the rows that carry its label (NaN without targets or labels;
 * with class weights the weighted mean, as training computes it). With `pool`, its
 * threads score the batches together (outputs then in shared memory), with the same results.
 */
export function runSplit(
  model: tfl.LayersModel,
  split: Split,
  tasks: Record<string, TaskConfig>,
  pool?: InferencePool,
): { outputs: RawOutputs; losses: Record<string, number> } {
  const names = Object.keys(tasks);
  const units = model.outputs.map((o) => o.shape[o.shape.length - 1] as number);
  const outputArray = (length: number) => (pool ? new Float32Array(new SharedArrayBuffer(length * 4)) : new Float32Array(length));
  const outputs: RawOutputs = Object.fromEntries(names.map((t, i) => [t, outputArray(split.size * units[i])]));
  const lossSums = Object.fromEntries(names.map((t) => [t, 0]));
  const labelled = Object.fromEntries(names.map((t) => [t, 0]));
  if (split.stream) {
    // Streamed: chunk by chunk in file order; the first full pass keeps the targets and lines (small) on the split.
    const chunks: Split[] = [];
    let offset = 0;
    for (const chunk of split.stream.chunks()) {
      runRows(chunk, offset);
      offset += chunk.size;
      chunks.push({ ...chunk, inputs: [] });
    }
    if (Object.keys(split.targets).length === 0 && offset === split.size) {
      for (const name of Object.keys(chunks[0]?.targets ?? {})) {
        const parts = chunks.map((c) => c.targets[name]);
        const length = parts.reduce((n, p) => n + p.length, 0);
        const out = parts[0] instanceof Int32Array ? new Int32Array(length) : new Float32Array(length);
        let at = 0;
        for (const p of parts) (out.set(p, at), (at += p.length));
        split.targets[name] = out;
      }
      const rows = new Int32Array(offset);
      let at = 0;
      for (const c of chunks) (rows.set(c.rows, at), (at += c.rows.length));
      split.rows = rows;
    }
  } else {
    runRows(split, 0);
  }
  const losses = Object.fromEntries(names.map((t) => [t, labelled[t] ? lossSums[t] / labelled[t] : NaN]));
  return { outputs, losses };

  /** The rows of `part` (all of a split, or a streamed chunk) into `outputs` from row `offset`, their losses into the sums. */
  function runRows(part: Split, offset: number): void {
    const taskOutputs = names.map((task) => outputs[task]);
    const targetsOnly: Split = { ...part, inputs: [] };
    const inOrder = identityOrder(part.size);
    // Per batch and task: the loss sum and the (weighted) rows it covers, added up in batch order.
    const batchLosses: { lossSum: number; labelled: number }[][] = [];
    const scoreLosses = (start: number, end: number, output: (i: number) => tf.Tensor) => {
      const n = end - start;
      const { targets } = gatherBatch(targetsOnly, inOrder, start, end);
      // Without targets (predict) there is nothing to score: outputs only.
      const results = tf.tidy(() =>
        names.map((task, i) => {
          if (!targets[task]) return {};
          const target = taskTarget(tasks[task], targets[task], n, 1);
          return { lossSum: taskLoss(tasks[task], output(i), target), labelled: target.weight ?? target.labelled };
        }),
      );
      batchLosses[start / INFERENCE_BATCH] = results.map((r) => ({ lossSum: r.lossSum ? r.lossSum.dataSync()[0] : NaN, labelled: r.labelled ?? 0 }));
      tf.dispose(results.flatMap((r) => (r.lossSum ? [r.lossSum] : [])));
    };
    pool?.dispatch(part, taskOutputs, offset);
    scoreBatches(model, part, taskOutputs, offset, 0, pool?.threads ?? 1, (start, end, ys) => scoreLosses(start, end, (i) => ys[i]));
    pool?.wait();
    for (let start = 0; start < part.size; start += INFERENCE_BATCH) {
      const end = Math.min(part.size, start + INFERENCE_BATCH);
      // Another thread's batch: its losses from the outputs it wrote (the same values, so the same losses).
      if (!batchLosses[start / INFERENCE_BATCH]) scoreLosses(start, end, (i) => tf.tensor(outputs[names[i]].subarray((offset + start) * units[i], (offset + end) * units[i]), [end - start, units[i]]));
      names.forEach((task, i) => {
        lossSums[task] += batchLosses[start / INFERENCE_BATCH][i].lossSum;
        labelled[task] += batchLosses[start / INFERENCE_BATCH][i].labelled;
      });
    }
  }
}

/**
 * Model outputs of batches rank, rank + threads, ... (of INFERENCE_BATCH rows) of `part`
 * into `outputs` (one per model output) from row `offset`: on one thread every batch; on
 * several (InferencePool) each thread its share, the same batches one thread would score.
 * Batch norms run folded into the convolutions before them (models/inference-fold.ts).
 * `scored` sees each batch's output tensors before they are disposed.
 */
export function scoreBatches(model: tfl.LayersModel, part: Split, outputs: Float32Array[], offset: number, rank: number, threads: number, scored?: (start: number, end: number, ys: tf.Tensor[]) => void): void {
  const units = model.outputs.map((o) => o.shape[o.shape.length - 1] as number);
  const inOrder = identityOrder(part.size);
  withFoldedBatchNorms(model, () => {
    for (let start = rank * INFERENCE_BATCH; start < part.size; start += threads * INFERENCE_BATCH) {
      const end = Math.min(part.size, start + INFERENCE_BATCH);
      const n = end - start;
      const batch = gatherBatch(part, inOrder, start, end);
      // `scored` runs before the layers' intermediate tensors are freed: its small tensors then
      // do not split the freed space the next batch's large ones need (the wasm heap would grow).
      const ys = tf.tidy(() => {
        const x = batch.inputs.map(({ values, shape }) => tf.tensor(values, [n, ...shape]));
        const chunks = Math.ceil(n / chunkRows(model));
        const rows = Math.ceil(n / chunks);
        let y: tf.Tensor[];
        if (chunks === 1) y = asArray(model.apply(modelInput(x), { training: false }));
        else {
          const parts: tf.Tensor[][] = [];
          for (let at = 0; at < n; at += rows) {
            const size = Math.min(rows, n - at);
            parts.push(tf.tidy(() => asArray(model.apply(modelInput(x.map((t) => tf.slice(t, at, size))), { training: false }))));
          }
          y = parts[0].map((_, i) => tf.concat(parts.map((p) => p[i])));
        }
        scored?.(start, end, y);
        return y;
      });
      ys.forEach((y, i) => outputs[i].set(y.dataSync() as Float32Array, (offset + start) * units[i]));
      tf.dispose(ys);
    }
  });
}

/**
 * Floats of the largest layer output of one model.apply in inference; a batch whose
 * layers would pass it is applied in equal chunks. The wasm heap keeps its peak: ResNet-50
 * at 64x64 (296 KB a row after the stem) in two chunks of 128 holds 100 MB less per
 * thread than one batch of 256, at the same speed.
 */
const CHUNK_FLOATS = 2 ** 24;
const chunkRowsOf = new WeakMap<tfl.LayersModel, number>();

/** Rows of one model.apply in inference: the batch, or fewer where a layer's output would pass CHUNK_FLOATS. */
export function chunkRows(model: tfl.LayersModel): number {
  let rows = chunkRowsOf.get(model);
  if (rows === undefined) {
    let widest = 1;
    for (const layer of model.layers) {
      const shapes = (Array.isArray(layer.outputShape[0]) ? layer.outputShape : [layer.outputShape]) as (number | null)[][];
      for (const shape of shapes) widest = Math.max(widest, shape.slice(1).reduce((a: number, d) => a * (d ?? 1), 1));
    }
    rows = Math.max(1, Math.min(INFERENCE_BATCH, Math.floor(CHUNK_FLOATS / widest)));
    chunkRowsOf.set(model, rows);
  }
  return rows;
}

function identityOrder(n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => i);
}

export function evaluate(
  model: tfl.LayersModel,
  split: Split,
  tasks: Record<string, TaskConfig>,
  preprocessing: Preprocessing,
  pool?: InferencePool,
): Evaluation {
  const { outputs, losses } = runSplit(model, split, tasks, pool);
  const result: Evaluation = { loss: 0, tasks: {} };
  for (const [task, config] of Object.entries(tasks)) {
    const rows = labelledRows(split.targets[task], split.size);
    const all = taskMetrics(preprocessing.targets[task], selectRows(outputs[task], split.size, rows), selectRows(split.targets[task], split.size, rows), config);
    const metrics = Object.fromEntries(config.metrics.flatMap((m) => (m === 'per_label' ? Object.entries(all).filter(([k]) => k.includes('.')) : [[m, all[m]]])));
    result.tasks[task] = { loss: losses[task], metrics, n: rows.length };
    // A task without a labelled row here adds nothing (rather than NaN) to the weighted total.
    if (rows.length) result.loss += config.weight * losses[task];
  }
  return result;
}

/**
 * All metrics of a task from its raw outputs and encoded targets (the task's config gives
 * top_k and the multilabel threshold). Multilabel per-label metrics are keyed
 * `precision.<label>`, `recall.<label>`, `f1.<label>`.
 */
export function taskMetrics(transform: TargetTransform, raw: Float32Array, target: Int32Array | Float32Array, task?: TaskConfig): Record<string, number> {
  if (transform.kind === 'classification') {
    const k = transform.classes.length;
    const topK = task?.type === 'classification' ? (task.top_k ?? DEFAULT_TOP_K) : DEFAULT_TOP_K;
    return classificationMetrics(softmaxRows(raw, k), classColumn(target as Int32Array, raw.length / k), k, topK);
  }
  if (transform.kind === 'multilabel') {
    const labels = transform.labels;
    const { metrics, perLabel } = multilabelMetrics(sigmoid(raw), target as Float32Array, labels.length, task?.type === 'multilabel' ? task.threshold : 0.5);
    const out: Record<string, number> = { ...metrics };
    labels.forEach((l, j) => {
      out[`precision.${l}`] = perLabel.precision[j];
      out[`recall.${l}`] = perLabel.recall[j];
      out[`f1.${l}`] = perLabel.f1[j];
    });
    return out;
  }
  const { mean, std } = transform;
  return regressionMetrics(destandardize(raw, mean, std), destandardize(target as Float32Array, mean, std), mean.length);
}

/** Flattens an evaluation into logged keys: `<prefix>/loss`, `<prefix>/<task>/loss`, `<prefix>/<task>/<metric>`. */
export function toLogs(evaluation: Evaluation, prefix: string): Record<string, number> {
  const logs: Record<string, number> = { [`${prefix}/loss`]: evaluation.loss };
  for (const [task, e] of Object.entries(evaluation.tasks)) {
    logs[`${prefix}/${task}/loss`] = e.loss;
    for (const [m, v] of Object.entries(e.metrics)) logs[`${prefix}/${task}/${m}`] = v;
  }
  return logs;
}

export function softmaxRows(logits: Float32Array, k: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i += k) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, logits[i + c]);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += out[i + c] = Math.exp(logits[i + c] - max);
    for (let c = 0; c < k; c++) out[i + c] /= sum;
  }
  return out;
}

export function sigmoid(logits: Float32Array): Float32Array {
  return Float32Array.from(logits, (z) => 1 / (1 + Math.exp(-z)));
}

export function destandardize(values: Float32Array, mean: number[], std: number[]): Float32Array {
  const k = mean.length;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] * std[i % k] + mean[i % k];
  return out;
}

/** What model.apply takes: a lone tensor for a one-input model (tfjs-layers runs that path faster than a list of one). */
export function modelInput(x: tf.Tensor[]): tf.Tensor | tf.Tensor[] {
  return x.length === 1 ? x[0] : x;
}

export function asArray(output: tf.Tensor | tf.Tensor[] | unknown): tf.Tensor[] {
  return Array.isArray(output) ? (output as tf.Tensor[]) : [output as tf.Tensor];
}
