/**
 * A trained run loaded once for serving: JSON rows in, the same predictions `mtl predict`
 * writes out. Rows go through exactly predict's path (the checkpoint's fitted
 * preprocessing reading a JSONL table, runSplit, addPredictions), so the numbers agree
 * to the digit, and a row predict would keep with an error is refused with that reason.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend, type BackendInfo, type BackendName, type Device } from '../backends';
import { addPredictions, type PredictionRow } from '../api/predict';
import { loadWithPreprocessing } from '../data/load';
import { DataError, UserError } from '../errors';
import { loadCheckpoint, readCheckpointMeta } from '../outputs/checkpoint';
import type { CheckpointMeta } from '../outputs/checkpoint-meta';
import { resolveCheckpoint } from '../outputs/run-dir';
import { runSplit } from '../training/evaluate';
import { disposeModel, freezeForInference } from '../models/inference-fold';

export interface ModelInfo {
  name: string;
  checkpoint: string;
  backend: string;
  inputs: { name: string; type: string; shape: number[]; categories?: string[] }[];
  tasks: Record<string, { type: string; classes?: string[]; labels?: string[]; columns?: string[] }>;
}

export interface PredictOutcome {
  /** One per instance: its predictions, or null where it could not be scored. */
  predictions: (PredictionRow | null)[];
  /** Per unscorable instance (0-based), predict's reason. */
  errors: Map<number, string>;
}

export class Predictor {
  private constructor(
    private readonly model: tfl.LayersModel,
    private readonly meta: CheckpointMeta,
    readonly info: ModelInfo,
    private readonly scratch: string,
  ) {}

  static async load(location: string, options: { device?: Device; backend?: BackendName; name?: string } = {}): Promise<Predictor> {
    const { checkpoint } = resolveCheckpoint(location);
    const meta = readCheckpointMeta<CheckpointMeta>(checkpoint);
    if (meta.format !== 'mtl-checkpoint') throw new UserError(`${path.join(checkpoint, 'model.json')}: not an mtl checkpoint (it has no mtl metadata)`, { exitCode: 2 });
    if (meta.preprocessing.kind !== 'table') {
      throw new UserError(`${location}: mtl serve scores table rows (CSV/JSONL runs, image columns included); this run reads an IDX images file`, {
        exitCode: 2,
        hint: 'score IDX images with mtl predict RUN --data images.idx, or train from a table of image paths (see configs/fashion-mnist-png.yaml)',
      });
    }
    const backend: BackendInfo = await initBackend({ device: options.device ?? meta.config.device, backend: options.backend });
    const loaded = await loadCheckpoint<CheckpointMeta>(checkpoint);
    loaded.extras.optimizer?.forEach((t) => t.tensor.dispose());
    freezeForInference(loaded.model);
    const info = describeModel(options.name ?? meta.config.name ?? 'model', checkpoint, meta, backend);
    return new Predictor(loaded.model, meta, info, mkdtempSync(path.join(tmpdir(), 'mtl-serve-')));
  }

  /** Scores instances as one batch. */
  async predict(instances: Record<string, unknown>[]): Promise<PredictOutcome> {
    const file = path.join(this.scratch, `batch-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.jsonl`);
    const errors = new Map<number, string>();
    const images: string[] = [];
    try {
      // Line i + 1 of the file is instance i: predict's `row` is the line.
      writeFileSync(file, instances.map((r) => JSON.stringify(this.imageCells(r, images))).join('\n') + '\n');
      const pre = this.meta.preprocessing;
      let result;
      try {
        result = await loadWithPreprocessing(pre, this.meta.config.tasks, { csv: file }, { requireTargets: false, strict: false });
      } catch (e) {
        // A problem of the whole table (e.g. a column no row has): every instance gets it.
        if (!(e instanceof DataError)) throw e;
        const reason = e.message.replace(`${file}: `, '').replace(file, 'the instances');
        instances.forEach((_, i) => errors.set(i, reason));
        return { predictions: instances.map(() => null), errors };
      }
      const { split, unscorable } = result;
      for (const u of unscorable) errors.set(u.row - 1, u.reason);
      const scored = new Map<number, PredictionRow>();
      if (split.size > 0) {
        for (let i = 0; i < split.size; i++) scored.set(split.rows[i], {});
        const { outputs } = runSplit(this.model, split, this.meta.config.tasks);
        for (const task of this.meta.tasks) addPredictions(task, pre, this.meta.config.tasks[task], outputs[task], split.rows, scored);
      }
      return { predictions: instances.map((_, i) => scored.get(i + 1) ?? null), errors };
    } finally {
      rmSync(file, { force: true });
      for (const f of images) rmSync(f, { force: true });
    }
  }

  /**
   * Image columns: a path relative to the server's working folder (the JSONL file is a
   * temporary one, so predict's "relative to the data file" would not mean anything), or
   * the file itself as TensorFlow Serving sends binary values, {"b64": "<base64>"}.
   */
  private imageCells(row: Record<string, unknown>, written: string[]): Record<string, unknown> {
    if (this.imageInputs.length === 0) return row;
    const out = { ...row };
    for (const name of this.imageInputs) {
      const v = out[name];
      if (typeof v === 'string' && v !== '') out[name] = path.resolve(v);
      else if (v !== null && typeof v === 'object' && typeof (v as { b64?: unknown }).b64 === 'string') {
        const bytes = Buffer.from((v as { b64: string }).b64, 'base64');
        const ext = bytes[0] === 0x89 && bytes[1] === 0x50 ? '.png' : '.jpg';
        const f = path.join(this.scratch, `image-${written.length}-${Math.random().toString(36).slice(2)}${ext}`);
        writeFileSync(f, bytes);
        written.push(f);
        out[name] = f;
      }
    }
    return out;
  }

  private get imageInputs(): string[] {
    return this.meta.preprocessing.inputs.filter((i) => i.type === 'image').map((i) => i.name);
  }

  dispose(): void {
    disposeModel(this.model);
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

function describeModel(name: string, checkpoint: string, meta: CheckpointMeta, backend: BackendInfo): ModelInfo {
  const pre = meta.preprocessing;
  const inputs = pre.inputs.map((i) => {
    const categories = (i.state as { categories?: unknown })?.categories;
    return { name: i.name, type: i.type, shape: i.shape, ...(Array.isArray(categories) ? { categories: categories as string[] } : {}) };
  });
  const tasks: ModelInfo['tasks'] = {};
  for (const task of meta.tasks) {
    const t = pre.targets[task];
    if (t.kind === 'classification') tasks[task] = { type: 'classification', classes: t.classes };
    else if (t.kind === 'multilabel') tasks[task] = { type: 'multilabel', labels: t.labels };
    else tasks[task] = { type: 'regression', columns: t.columns };
  }
  return { name, checkpoint, backend: backend.name, inputs, tasks };
}
