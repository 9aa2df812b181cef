/** `mtl train <config.yaml>` and `mtl train --resume <run-dir>`. */
import { hostname } from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import type * as tfl from '@tensorflow/tfjs-layers';
import { describeBackend, initBackend, type BackendInfo, type BackendName, type Device } from '../backends';
import { configHash, configToYaml, loadConfig, type ConfigOverrides } from '../config/load';
import { changedKeys } from '../config/diff';
import type { Config } from '../config/schema';
import { loadData } from '../data/load';
import { ConfigError, InterruptedError, UserError } from '../errors';
import { buildModel } from '../models/build';
import { loadBackboneWeights } from '../models/pretrained';
import { loadCheckpoint, readCheckpointMeta, type NamedTensor } from '../outputs/checkpoint';
import { CHECKPOINT_VERSION, type CheckpointMeta } from '../outputs/checkpoint-meta';
import { RUN_FILES, RunDir } from '../outputs/run-dir';
import { evaluate, toLogs, type Evaluation } from '../training/evaluate';
import { train, type StopSignal, type TaskBest, type TrainOptions, type TrainResult, type TrainState } from '../training/loop';
import { labelledRows } from '../data/labels';
import { dataReplicas, kernelThreads } from '../training/threads';
import { createProgress, formatNumber, type ProgressReporter } from '../training/progress';
import { mtlVersion } from '../version';
import { describeInputs, metricsTable } from '../outputs/format';
import { reportCommand } from './report';
import { configHparams, TensorBoardLog } from '../outputs/tensorboard';
import { type Output } from './output-types';
import { disposeModel } from '../models/inference-fold';

export interface TrainArgs extends ConfigOverrides {
  /** The experiment file; optional with --resume (the run's own config.yaml is used). */
  config?: string;
  /** An already validated config instead of a file (mtl compare builds its runs' configs). */
  resolvedConfig?: Config;
  /** Run folder to write instead of <output.dir>/<name>/<timestamp>. */
  out?: string;
  backend?: BackendName;
  /** Continue the run in this folder from its checkpoints/last. */
  resume?: string;
  /** Resume even though the config or the data changed. */
  force?: boolean;
  /** Write report.html into the run folder when training ends. */
  report?: boolean;
  /** Also write the scalars as TensorBoard event files (run folder's tensorboard/). */
  tensorboard?: boolean;
  device?: Device;
  /** Per task, a monitor whose best epoch's test scores are kept (see TrainOptions.taskMonitors). */
  taskMonitors?: Record<string, { key: string; mode: 'min' | 'max' }>;
  /** See TrainOptions.beforeStep. */
  beforeStep?: TrainOptions['beforeStep'];
}

export interface TrainSummary {
  name: string;
  run_dir: string;
  backend: string;
  epochs: number;
  stop_reason: TrainResult['stopReason'];
  best_epoch: number;
  monitor: { key: string; value: number };
  seconds: number;
  samples_per_s: number;
  test: Evaluation | null;
  /** With taskMonitors: each task's test scores at its own best epoch. */
  task_best?: Record<string, TaskBest>;
  /** Per task, the data-file lines of the test rows it was scored on (not written to summary.json). */
  testRows?: Record<string, number[]>;
}

interface Resumed {
  run: RunDir;
  model: tfl.LayersModel;
  state: TrainState;
  optimizer: NamedTensor[];
  meta: CheckpointMeta & { state: TrainState };
}

export async function trainCommand(
  args: TrainArgs,
  out: Output,
  progress: ProgressReporter = createProgress(),
  stop: StopSignal = { requested: false },
): Promise<TrainSummary> {
  const opened = args.resume ? openResume(args) : undefined;
  if (opened) checkConfigUnchanged(args, opened);
  const config = opened ? opened.meta.config : (args.resolvedConfig ?? loadConfig(requireConfig(args), args).config);
  const backend = await initBackend({ device: args.device ?? config.device, backend: args.backend, kernelThreads: kernelThreads(config) });
  let resumed: Resumed | undefined;
  if (opened) {
    const loaded = await loadCheckpoint<CheckpointMeta>(opened.run.checkpoint('last'));
    resumed = { ...opened, model: loaded.model, optimizer: loaded.extras.optimizer ?? [] };
  }
  out.log(describeBackend(backend));
  const data = await loadData(config);
  for (const note of data.notes) out.log(note);
  out.log(`data: ${data.train.size} train, ${data.val.size} val, ${data.test.size} test samples; inputs ${describeInputs(data.preprocessing.inputs)}`);
  if (resumed && JSON.stringify(resumed.meta.preprocessing) !== JSON.stringify(data.preprocessing) && !args.force) {
    throw new UserError('the data files changed since this run started (the fitted preprocessing differs)', {
      exitCode: 2,
      hint: 'restore the original files, or pass --force to continue on the new data',
    });
  }

  let model: tfl.LayersModel;
  if (resumed) {
    model = resumed.model;
  } else {
    model = buildModel(config, data.preprocessing);
    if (config.model.backbone.weights) out.log(loadBackboneWeights(model, config.model.backbone.weights));
  }
  out.log(`model: ${config.model.backbone.type} backbone, ${config.model.sharing.type} sharing, ${model.countParams()} parameters, tasks ${Object.keys(config.tasks).join(', ')}`);

  const threads = resolveThreads(config, backend);
  if (threads > 1) out.log(`threads: ${threads} data-parallel replicas (each takes a share of every batch; set --threads 1 for a single thread)`);
  const kernel = backend.kernelThreads ?? 1;
  if (kernel > 1) out.log(`threads: ${kernel} kernel threads (one model; each convolution splits every batch over them; set --threads 1 for a single thread)`);
  else if (kernelThreads(config) > 1 && backend.name === 'cpu') out.log('threads: kernel threads run on the wasm engine only; the cpu engine trains on one thread');
  const run = resumed?.run ?? RunDir.create(config.output.dir, config.name!, args.out);
  const hash = configHash(config);
  const startedAt = new Date().toISOString();
  const meta = {
    mtl_version: mtlVersion,
    name: config.name,
    config_hash: hash,
    seed: config.seed,
    backend,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    host: hostname(),
    command: process.argv.slice(1).join(' '),
    started_at: startedAt,
    threads,
  };
  if (resumed) {
    const previous = run.readJson<Record<string, unknown>>(RUN_FILES.meta);
    const resumes = [...((previous.resumes as unknown[]) ?? []), { at: startedAt, from_epoch: resumed.state.epoch, from_step: resumed.state.globalStep, backend: backend.name }];
    Object.assign(meta, { ...previous, resumes, status: 'running' });
    out.log(`resuming ${run.path} at epoch ${resumed.state.epoch}${resumed.state.epochComplete ? ' (finished)' : `, step ${resumed.state.stepInEpoch}`}`);
  } else {
    out.log(`run folder: ${run.path}`);
    run.writeText(RUN_FILES.config, configToYaml(config));
    Object.assign(meta, { status: 'running' });
  }
  run.writeJson(RUN_FILES.meta, meta);

  const checkpointMeta: Omit<CheckpointMeta, 'epoch' | 'step' | 'logs'> = {
    format: 'mtl-checkpoint',
    version: CHECKPOINT_VERSION,
    mtlVersion,
    config,
    configHash: hash,
    preprocessing: data.preprocessing,
    tasks: Object.keys(config.tasks),
    backend: { name: backend.name, version: backend.version },
  };
  const tensorboard = args.tensorboard ? new TensorBoardLog(run.file('tensorboard')) : undefined;
  const hparams = configHparams(config);
  if (tensorboard) {
    tensorboard.startSession(hparams, run.file('checkpoints'));
    out.log(`tensorboard: tensorboard --logdir ${run.path}`);
  }
  let result: TrainResult;
  try {
    result = await train({
      config,
      model,
      data,
      run,
      progress,
      checkpointMeta,
      stop,
      threads,
      taskMonitors: args.taskMonitors,
      beforeStep: args.beforeStep,
      resume: resumed ? { state: resumed.state, optimizer: resumed.optimizer } : undefined,
      onEpochEnd: tensorboard ? ({ epoch, ...scalars }) => tensorboard.writeScalars(epoch, scalars) : undefined,
    });
  } catch (e) {
    tensorboard?.endSession('failure', hparams, []);
    run.writeJson(RUN_FILES.meta, { ...meta, status: 'failed', error: (e as Error).message, ended_at: new Date().toISOString() });
    throw e;
  }
  disposeModel(model);
  resumed?.optimizer.forEach((t) => t.tensor.dispose());

  if (result.stopReason === 'interrupted') {
    run.writeJson(RUN_FILES.meta, { ...meta, status: 'interrupted', interrupted_at: new Date().toISOString() });
    const s = result.state;
    const where = s.stepInEpoch === 0 ? `after epoch ${s.epoch - 1}` : `at epoch ${s.epoch}, step ${s.stepInEpoch}`;
    throw new InterruptedError(`interrupted ${where}; checkpoints/last holds this point`, `resume with: mtl train --resume ${run.path}`, stop.signal);
  }

  let test: Evaluation | null = null;
  if (data.test.size > 0) {
    const best = await loadCheckpoint<CheckpointMeta>(run.checkpoint('best'));
    test = evaluate(best.model, data.test, config.tasks, data.preprocessing);
    disposeModel(best.model);
    best.extras.optimizer?.forEach((t) => t.tensor.dispose());
  }
  if (tensorboard) {
    const testLogs = test ? toLogs(test, 'test') : {};
    if (test) tensorboard.writeScalars(result.bestEpoch, testLogs);
    tensorboard.writeBest(result.bestEpoch, result.best.key, result.best.value);
    const lastRow = result.history.at(-1) ?? {};
    tensorboard.endSession('success', hparams, [...Object.keys(lastRow), ...Object.keys(testLogs)], result.best.key);
  }
  const summary: TrainSummary = {
    name: config.name!,
    run_dir: run.path,
    backend: backend.name,
    epochs: result.epochs,
    stop_reason: result.stopReason,
    best_epoch: result.bestEpoch,
    monitor: result.best,
    seconds: result.seconds,
    samples_per_s: result.samplesPerSecond,
    test,
    ...(result.taskBest ? { task_best: result.taskBest } : {}),
  };
  run.writeJson(RUN_FILES.summary, summary);
  summary.testRows = Object.fromEntries(Object.keys(config.tasks).map((t) => [t, Array.from(labelledRows(data.test.targets[t], data.test.size), (i) => data.test.rows[i])]));
  run.writeJson(RUN_FILES.meta, { ...meta, status: 'finished', ended_at: new Date().toISOString(), seconds: result.seconds, epochs: result.epochs });

  out.log(
    `done: ${result.epochs} epochs in ${result.seconds.toFixed(1)}s (${formatNumber(result.samplesPerSecond)} samples/s), ` +
      `best ${result.best.key} ${formatNumber(result.best.value)} at epoch ${result.bestEpoch}`,
  );
  if (test) out.log(`test metrics (checkpoints/best):\n${metricsTable(test.tasks)}`);
  if (args.report) await reportCommand({ location: run.path }, out);
  out.log(`evaluate again with: mtl eval ${run.path}`);
  return summary;
}

/** Native engines thread themselves; wasm and cpu run the configured data-parallel replicas. */
export function resolveThreads(config: Config, backend: BackendInfo): number {
  return dataReplicas(config, backend.name);
}

function requireConfig(args: TrainArgs): string {
  if (!args.config) throw new ConfigError('mtl train needs a config file (or --resume <run-dir>)', 'usage: mtl train configs/penguins.yaml');
  return args.config;
}

/** Reads the run's checkpoints/last metadata; the model is loaded once the backend is up. */
function openResume(args: TrainArgs): Omit<Resumed, 'model' | 'optimizer'> {
  const dir = path.resolve(args.resume!);
  const run = new RunDir(dir);
  if (!existsSync(run.checkpoint('last')) || !run.exists(RUN_FILES.config)) {
    throw new UserError(`--resume ${args.resume}: not a run folder with checkpoints/last`, { exitCode: 2, hint: 'pass the folder that mtl train printed as "run folder"' });
  }
  const meta = readCheckpointMeta<CheckpointMeta & { state?: TrainState }>(run.checkpoint('last'));
  if (meta.format !== 'mtl-checkpoint' || !meta.state) {
    throw new UserError(`${run.checkpoint('last')}: holds no training state to resume from`, { exitCode: 2, hint: 'it was not written by mtl train; start a new run' });
  }
  const runConfig = loadConfig(run.file(RUN_FILES.config)).config;
  if (configHash(runConfig) !== meta.configHash) {
    throw new UserError(`${run.checkpoint('last')}: this checkpoint was trained with another config than ${run.file(RUN_FILES.config)}`, {
      exitCode: 2,
      hint: 'the checkpoint was copied from another run; resume that run instead, or start a new one',
    });
  }
  return { run, state: meta.state, meta: meta as Resumed['meta'] };
}

/** A resumed run keeps its config; a config file or flags that change it are refused without --force. */
function checkConfigUnchanged(args: TrainArgs, resumed: Omit<Resumed, 'model' | 'optimizer'>): void {
  const saved = resumed.meta.config;
  const overrides = args.epochs !== undefined || args.batchSize !== undefined || args.seed !== undefined || (args.set?.length ?? 0) > 0;
  if (!args.config && !overrides) return;
  const requested: Config = args.config
    ? loadConfig(args.config, args).config
    : loadConfig(resumed.run.file(RUN_FILES.config), args).config;
  const changed = changedKeys(saved, requested).filter((k) => !k.startsWith('device') && !k.startsWith('output'));
  if (changed.length === 0) return;
  if (!args.force) {
    throw new ConfigError(`the config differs from the run being resumed in: ${changed.join(', ')}`, 'resume with the same config, or pass --force to continue with the new one');
  }
  resumed.meta.config = requested;
  resumed.run.writeText(RUN_FILES.config, configToYaml(requested));
}
