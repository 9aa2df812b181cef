/** `mtl eval <run-dir|checkpoint-dir>`: score a saved model on a split or a new file. */
import path from 'node:path';
import { describeBackend, initBackend, type BackendName, type Device } from '../backends';
import { loadData, loadWithPreprocessing, openNewFileBlocks, type DataSource } from '../data/load';
import { newFileSplit, newFileStreaming } from '../data/stream';
import type { Split } from '../data/types';
import { UserError } from '../errors';
import { loadCheckpoint, readCheckpointMeta } from '../outputs/checkpoint';
import type { CheckpointMeta } from '../outputs/checkpoint-meta';
import { resolveCheckpoint } from '../outputs/run-dir';
import { evaluate, type Evaluation } from '../training/evaluate';
import { InferencePool } from '../training/parallel/inference-pool';
import { inferenceKernelThreads, inferenceThreads } from '../training/threads';
import { metricsTable } from '../outputs/format';
import { type Output } from './output-types';
import { disposeModel, freezeForInference } from '../models/inference-fold';

export type SplitName = 'train' | 'val' | 'test';

export interface EvalArgs {
  location: string;
  /** A CSV file, or for image runs an IDX images file (with --target for its label files). */
  data?: string;
  /** For IDX --data: `name=path` of each target file. */
  target?: string[];
  split?: SplitName;
  json?: boolean;
  device?: Device;
  backend?: BackendName;
  /** --data: read the file block by block (true) or whole (false); unset: block by block when it is larger than the run's data.memory_budget (images counted decoded). */
  streaming?: boolean;
  /** Threads scoring the rows on the wasm and cpu engines; unset: inferenceThreads decides. */
  threads?: number;
}

export interface EvalReport extends Evaluation {
  checkpoint: string;
  epoch: number;
  /** The split scored, or the file given with --data. */
  source: string;
  samples: number;
  backend: string;
}

export async function evalCommand(args: EvalArgs, out: Output): Promise<EvalReport> {
  const { checkpoint } = resolveCheckpoint(args.location);
  const meta = readCheckpointMeta<CheckpointMeta>(checkpoint);
  if (meta.format !== 'mtl-checkpoint') {
    throw new UserError(`${path.join(checkpoint, 'model.json')}: not an mtl checkpoint (it has no mtl metadata)`, { hint: 'pass a run folder written by mtl train' });
  }
  const config = meta.config;
  const backend = await initBackend({ device: args.device ?? config.device, backend: args.backend, kernelThreads: inferenceKernelThreads(config, args.threads) });
  if (!args.json) out.log(describeBackend(backend));

  let split: Split;
  let source: string;
  if (args.data) {
    const pre = meta.preprocessing;
    const streaming = await newFileStreaming(config, pre, args.data, args.streaming);
    const input: DataSource = pre.kind === 'table' ? { csv: args.data } : { images: args.data, targets: parseTargets(args.target ?? []) };
    const options = { requireTargets: true, strict: true };
    if (streaming.stream && !args.json) out.log(streaming.note!);
    const loaded = streaming.stream ? newFileSplit(pre, args.data, await openNewFileBlocks(pre, config.tasks, input, streaming.budget, options)) : await loadWithPreprocessing(pre, config.tasks, input, options);
    split = loaded.split;
    if (!args.json) for (const note of loaded.notes) out.log(note);
    source = args.data;
  } else {
    const name = args.split ?? 'test';
    const data = await loadData(config);
    split = data[name];
    source = name;
    if (split.size === 0) throw new UserError(`the ${name} split of this run is empty`, { exitCode: 2, hint: 'choose another --split or pass --data' });
  }
  const loaded = await loadCheckpoint<CheckpointMeta>(checkpoint);
  const threads = inferenceThreads(config, meta.preprocessing, backend.name, split.size, args.threads, backend.kernelThreads);
  const pool = await InferencePool.start(threads, backend.name, loaded.model);
  freezeForInference(loaded.model);
  if (pool && !args.json) out.log(`threads: ${threads} scoring the rows (set --threads 1 for one)`);
  let evaluation: Evaluation;
  try {
    evaluation = evaluate(loaded.model, split, config.tasks, meta.preprocessing, pool);
  } finally {
    await pool?.close();
    disposeModel(loaded.model);
  }
  const report: EvalReport = { checkpoint, epoch: meta.epoch, source, samples: split.size, backend: backend.name, ...evaluation };
  if (args.json) out.log(JSON.stringify(report, null, 2));
  else {
    out.log(`${checkpoint} (epoch ${meta.epoch}) on ${source}: ${split.size} samples, loss ${evaluation.loss.toPrecision(6)}`);
    out.log(metricsTable(evaluation.tasks));
  }
  return report;
}

function parseTargets(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((p) => {
      const eq = p.indexOf('=');
      if (eq <= 0) throw new UserError(`--target ${p}: expected name=path`, { exitCode: 2 });
      return [p.slice(0, eq), p.slice(eq + 1)];
    }),
  );
}
