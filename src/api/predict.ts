/**
 * `mtl predict <run-dir> --data <file> [--out preds.csv|preds.jsonl]`: predictions for
 * every task with the preprocessing saved at training. Classification gives the
 * class and the probability of each class; multilabel the set of labels whose
 * probability reaches the task's threshold (in CSV joined by the task's delimiter, in
 * JSONL an array) and every label's probability; regression gives values in the target's
 * own units. Every input row appears in the output; rows that cannot be scored carry
 * their reason in `error` and are listed on stderr, never dropped silently. Target
 * columns are not used, but a multilabel task's column in the file is checked: a cell
 * naming a label the model does not know is a row error (exit 2), as at `mtl eval`. A
 * file larger than the run's data.memory_budget (its images counted decoded: a table of
 * image paths, an image folder, IDX images) is read, predicted and written a block of
 * rows at a time.
 */
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { describeBackend, initBackend, type BackendName, type Device } from '../backends';
import { loadWithPreprocessing, openNewFileBlocks, type DataSource } from '../data/load';
import { newFileStreaming, type NewFileBlock } from '../data/stream';
import type { TaskConfig } from '../config/schema';
import type { Preprocessing, Split, UnscorableRow } from '../data/types';
import { DataError, UserError } from '../errors';
import { AtomicWriter } from '../outputs/atomic';
import { loadCheckpoint, readCheckpointMeta } from '../outputs/checkpoint';
import type { CheckpointMeta } from '../outputs/checkpoint-meta';
import { resolveCheckpoint } from '../outputs/run-dir';
import { destandardize, runSplit, sigmoid, softmaxRows } from '../training/evaluate';
import { InferencePool } from '../training/parallel/inference-pool';
import { inferenceKernelThreads, inferenceThreads } from '../training/threads';
import { type Output } from './output-types';
import { disposeModel, freezeForInference } from '../models/inference-fold';

export interface PredictArgs {
  location: string;
  data: string;
  out?: string;
  device?: Device;
  backend?: BackendName;
  /** Read the file block by block (true) or whole (false); unset: block by block when it is larger than the run's data.memory_budget (images counted decoded). */
  streaming?: boolean;
  /** Threads scoring the rows on the wasm and cpu engines; unset: inferenceThreads decides. */
  threads?: number;
}

/** One output row: the input row number, then per task its prediction; `error` when it could not be scored. */
export type PredictionRow = Record<string, string | number | string[] | Record<string, number> | null>;

export interface PredictResult {
  /** Every output row; empty when the file was read block by block (its rows were written as they came). */
  rows: PredictionRow[];
  /** The rows that could not be scored (read block by block: the first 1,000). */
  unscorable: UnscorableRow[];
  columns: string[];
  /** Rows written, of them scored, and not scored. */
  counts: { rows: number; scored: number; unscorable: number };
  /** Whether the file was read block by block. */
  streamed: boolean;
}

const UNSCORABLE_KEPT = 1000;

export async function predictCommand(args: PredictArgs, out: Output, err: Output = { log: (m) => process.stderr.write(`${m}\n`) }): Promise<PredictResult> {
  const { checkpoint } = resolveCheckpoint(args.location);
  const meta = readCheckpointMeta<CheckpointMeta>(checkpoint);
  if (meta.format !== 'mtl-checkpoint') throw new UserError(`${path.join(checkpoint, 'model.json')}: not an mtl checkpoint (it has no mtl metadata)`);
  const backend = await initBackend({ device: args.device ?? meta.config.device, backend: args.backend, kernelThreads: inferenceKernelThreads(meta.config, args.threads) });
  const loaded = await loadCheckpoint<CheckpointMeta>(checkpoint);
  if (args.out) out.log(describeBackend(backend));
  const pre = meta.preprocessing;
  const tasks = meta.config.tasks;
  const streaming = await newFileStreaming(meta.config, pre, args.data, args.streaming);
  const source: DataSource = pre.kind === 'table' ? { csv: args.data } : { images: args.data, targets: {} };
  const options = { requireTargets: false, strict: false };
  let blocks: Iterable<NewFileBlock>;
  if (streaming.stream) {
    out.log(streaming.note!);
    blocks = (await openNewFileBlocks(pre, tasks, source, streaming.budget, options)).blocks();
  } else {
    blocks = [await loadWithPreprocessing(pre, tasks, source, options)];
  }
  // Read block by block, the file is larger than memory: rows enough for every thread.
  const threads = inferenceThreads(meta.config, pre, backend.name, streaming.stream ? Infinity : (blocks as NewFileBlock[])[0].split.size, args.threads, backend.kernelThreads);
  const pool = await InferencePool.start(threads, backend.name, loaded.model);
  freezeForInference(loaded.model);
  if (pool && args.out) out.log(`threads: ${threads} scoring the rows (set --threads 1 for one)`);
  const columns = csvColumns(meta.tasks, pre);
  const jsonl = args.out?.endsWith('.jsonl') ?? false;
  const writer = args.out ? new AtomicWriter(args.out) : undefined;
  const emit = (text: string) => (writer ? writer.write(text) : out.data ? out.data(text.trimEnd()) : process.stdout.write(text));
  const counts = { rows: 0, scored: 0, unscorable: 0 };
  const unscorable: UnscorableRow[] = [];
  const noneScored = () => new DataError(`${args.data}: none of the ${counts.unscorable} rows can be scored (first: line ${unscorable[0].row}: ${unscorable[0].reason})`, 'check that the file has the columns and values the model was trained on');
  let rows: PredictionRow[] = [];
  try {
    for (const block of blocks) {
      counts.scored += block.split.size;
      counts.unscorable += block.unscorable.length;
      for (const u of block.unscorable) if (unscorable.length < UNSCORABLE_KEPT) unscorable.push(u);
      if (!streaming.stream && counts.scored === 0 && counts.unscorable > 0) throw noneScored();
      const blockRows = predictRows(loaded.model, block.split, block.unscorable, meta.tasks, pre, tasks, pool);
      const header = jsonl || counts.rows > 0 ? '' : stringify([columns]);
      if (blockRows.length || !streaming.stream) emit(header + (jsonl ? blockRows.map((r) => JSON.stringify(r)).join('\n') + '\n' : csvRows(blockRows, columns, tasks)));
      counts.rows += blockRows.length;
      if (!streaming.stream) rows = blockRows;
    }
    if (counts.scored === 0 && counts.unscorable > 0) throw noneScored();
    writer?.commit();
  } catch (e) {
    writer?.abort();
    throw e;
  } finally {
    await pool?.close();
    disposeModel(loaded.model);
  }
  if (args.out) out.log(`wrote ${counts.rows} rows (${counts.scored} scored) to ${args.out}`);
  if (counts.unscorable > 0) {
    err.log(`warning: ${counts.unscorable} row${counts.unscorable === 1 ? '' : 's'} could not be scored (kept with an error):`);
    for (const u of unscorable.slice(0, 10)) err.log(`  ${pre.kind === 'table' ? 'line' : 'image'} ${u.row}: ${u.reason}`);
    if (counts.unscorable > 10) err.log(`  ... and ${counts.unscorable - 10} more`);
  }
  return { rows, unscorable, columns, counts, streamed: streaming.stream };
}

/** The output rows of a split (and of the rows it could not score), in row order. */
function predictRows(model: Parameters<typeof runSplit>[0], split: Split, unscorable: UnscorableRow[], taskNames: string[], pre: Preprocessing, tasks: Record<string, TaskConfig>, pool?: InferencePool): PredictionRow[] {
  const scored = new Map<number, PredictionRow>();
  if (split.size > 0) {
    const { outputs } = runSplit(model, split, tasks, pool);
    for (let i = 0; i < split.size; i++) scored.set(split.rows[i], { row: split.rows[i] });
    for (const task of taskNames) addPredictions(task, pre, tasks[task], outputs[task], split.rows, scored);
  }
  return [...scored.values(), ...unscorable.map((u) => ({ row: u.row, error: u.reason }))].sort((a, b) => (a.row as number) - (b.row as number));
}

export function addPredictions(task: string, pre: Preprocessing, config: TaskConfig, raw: Float32Array, rowIds: Int32Array, rows: Map<number, PredictionRow>): void {
  const t = pre.targets[task];
  if (t.kind === 'multilabel') {
    const k = t.labels.length;
    const probs = sigmoid(raw);
    const threshold = config.type === 'multilabel' ? config.threshold : 0.5;
    rowIds.forEach((id, i) => {
      const p = probs.subarray(i * k, (i + 1) * k);
      rows.get(id)![task] = t.labels.filter((_, j) => p[j] >= threshold);
      rows.get(id)![`${task}.p`] = Object.fromEntries(t.labels.map((l, j) => [l, round(p[j])]));
    });
  } else if (t.kind === 'classification') {
    const k = t.classes.length;
    const probs = softmaxRows(raw, k);
    rowIds.forEach((id, i) => {
      const p = probs.subarray(i * k, (i + 1) * k);
      const best = p.indexOf(Math.max(...p));
      rows.get(id)![task] = t.classes[best];
      rows.get(id)![`${task}.p`] = Object.fromEntries(t.classes.map((c, j) => [c, round(p[j])]));
    });
  } else {
    const k = t.columns.length;
    const values = destandardize(raw, t.mean, t.std);
    rowIds.forEach((id, i) => {
      if (k === 1) rows.get(id)![task] = round(values[i]);
      else rows.get(id)![task] = Object.fromEntries(t.columns.map((c, j) => [c, round(values[i * k + j])]));
    });
  }
}

/** A predicted number as predictions carry it: 7 significant digits. */
export function round(v: number): number {
  return Number(v.toPrecision(7));
}

/** row, then per task its prediction columns (probabilities as `<task>.p.<class>`), then error. */
function csvColumns(tasks: string[], pre: Preprocessing): string[] {
  const columns = ['row'];
  for (const task of tasks) {
    const t = pre.targets[task];
    if (t.kind === 'classification') columns.push(task, ...t.classes.map((c) => `${task}.p.${c}`));
    else if (t.kind === 'multilabel') columns.push(task, ...t.labels.map((l) => `${task}.p.${l}`));
    else if (t.columns.length === 1) columns.push(task);
    else columns.push(...t.columns.map((c) => `${task}.${c}`));
  }
  return [...columns, 'error'];
}

/** CSV records of prediction rows (no header): a multilabel task's label set is one cell, its labels joined by the task's delimiter. */
function csvRows(rows: PredictionRow[], columns: string[], tasks: Record<string, TaskConfig>): string {
  const flat = rows.map((r) => {
    const cells: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(r)) {
      const task = tasks[key];
      if (Array.isArray(value)) cells[key] = value.join(task?.type === 'multilabel' ? task.delimiter : '|');
      else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) cells[`${key}.${k}`] = v;
      else cells[key] = value;
    }
    return columns.map((c) => cells[c] ?? '');
  });
  return stringify(flat);
}
