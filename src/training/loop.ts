/**
 * The training loop: epochs of shuffled mini-batches, validation, learning-rate
 * schedule, best/last checkpoints, early stopping, metrics rows and progress.
 *
 * Everything the loop depends on is either derived from the seed (epoch order,
 * dropout masks) or kept in `TrainState`, which checkpoints/last stores together
 * with the optimizer slots, so a resumed run continues exactly where it stopped.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Config, TaskConfig } from '../config/schema';
import { epochOrder } from '../data/batches';
import type { LoadedData, Split } from '../data/types';
import { UserError } from '../errors';
import { lossTermNames } from '../models/loss-terms';
import { saveCheckpoint, type NamedTensor } from '../outputs/checkpoint';
import { MetricsWriter, type MetricsRow } from '../outputs/metrics-writer';
import { RUN_FILES, type RunDir } from '../outputs/run-dir';
import { evaluate, toLogs, type TaskEvaluation } from './evaluate';
import { createLrSchedule } from './lr-schedule';
import { extraColumns, hasSharedParameters, hasValidation, monitorableKeys, resolveMode } from './metric-keys';
import { Monitor } from './monitor';
import { optimizerKind } from './optimizers';
import { activeBackend } from '../backends';
import { formatNumber, type ProgressReporter } from './progress';
import { createReplica, replicaStep, batchTensors, type Replica } from './replica';
import { disposeTargets } from './losses';
import { ReplicaPool } from './parallel/pool';
import { ConflictTracker, probeTaskGradients } from './diagnostics';
import { releaseFolds } from '../models/inference-fold';

/** Where training stands; saved in every checkpoint's metadata. */
export interface TrainState {
  /** The epoch in progress, or the last one finished (1-based; 0 before training). */
  epoch: number;
  /** Steps of `epoch` already taken. */
  stepInEpoch: number;
  epochComplete: boolean;
  globalStep: number;
  /** Per-task loss sums (weighted by labelled rows) of the unfinished epoch, then the total, then each loss term. */
  sums: number[];
  seen: number;
  /** Per task: labelled rows seen in the unfinished epoch. */
  taskSeen: number[];
  bestEpoch: number;
  checkpointMonitor: { best: number | null; wait: number };
  earlyMonitor?: { best: number | null; wait: number };
  schedule: object;
  weighting: object;
  conflicts: Record<string, number>;
  /** With `taskMonitors`: each task's monitor and its test scores at its own best epoch. */
  taskBest?: Record<string, TaskBest & { monitor: { best: number | null; wait: number } }>;
  /** The optimizer whose slots checkpoints hold. */
  optimizer: string;
  trainSeconds: number;
  samples: number;
  /** A streamed train split (data.streaming): where its epoch's stream stands and how it shuffles (resume reads the epoch again up to the step). */
  stream?: Record<string, unknown>;
}

/** Set `requested` to stop at the end of the current step (Ctrl-C). */
export interface StopSignal {
  requested: boolean;
  /** The signal that asked (SIGINT, SIGTERM), when one did. */
  signal?: string;
}

export interface TrainOptions {
  config: Config;
  model: tfl.LayersModel;
  data: LoadedData;
  run: RunDir;
  progress: ProgressReporter;
  /** Stored in every checkpoint's metadata (config, preprocessing, backend, ...). */
  checkpointMeta: Record<string, unknown>;
  /** Continue from a checkpoint's state and optimizer slots. */
  resume?: { state: TrainState; optimizer: NamedTensor[] };
  stop?: StopSignal;
  /** Called with each epoch's metrics row once it is written (TensorBoard, ...). */
  onEpochEnd?: (logs: MetricsRow) => void;
  /** Data-parallel replicas (threads); 1 trains on the main thread alone. */
  threads?: number;
  /**
   * Per task, a monitor of its own (mtl compare: the key its single-task model would
   * pick its checkpoint by). Whenever one improves, the test split is scored with the
   * epoch's weights, so each task's score at its own best epoch is known.
   */
  taskMonitors?: Record<string, { key: string; mode: 'min' | 'max' }>;
  /** Called before every training step with the batch it is about to take (mtl affinity's measurement). */
  beforeStep?: (replica: Replica, batch: { split: Split; order: ArrayLike<number>; start: number; end: number; globalStep: number }) => void;
}

export type StopReason = 'completed' | 'early_stopping' | 'interrupted';

/** A task's own best epoch by its own monitor, and the test scores of the weights of that epoch. */
export interface TaskBest {
  epoch: number;
  key: string;
  value: number;
  test: TaskEvaluation | null;
}

export interface TrainResult {
  epochs: number;
  stopReason: StopReason;
  bestEpoch: number;
  best: { key: string; value: number };
  history: readonly MetricsRow[];
  /** With `taskMonitors`. */
  taskBest?: Record<string, TaskBest>;
  seconds: number;
  samplesPerSecond: number;
  state: TrainState;
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const { config, model, data, run, progress } = options;
  const taskNames = Object.keys(config.tasks);
  const taskConfigs = taskNames.map((t) => config.tasks[t]);
  const training = config.training;
  const backend = activeBackend();
  // webgpu (hardware or software adapter) runs mtl's fused Adam kernel, as the host engines do.
  const onHost = !backend?.gpu || backend.name === 'webgpu';
  const replica = createReplica(config, model, onHost);
  const { network, optimizer, weighting } = replica;
  const termNames = lossTermNames(config.model.sharing);
  const diagnose = training.diagnostics.enabled && hasSharedParameters(config) && network.shared.length > 0;
  const conflicts = new ConflictTracker(training.diagnostics.conflict_epochs);
  const checkpointKey = training.checkpoint.monitor;
  const checkpointMonitor = new Monitor(checkpointKey, resolveMode(checkpointKey, training.checkpoint.mode));
  const early = training.early_stopping;
  const earlyKey = early?.monitor ?? checkpointKey;
  const earlyMonitor = early ? new Monitor(earlyKey, early.monitor || early.mode !== 'auto' ? resolveMode(earlyKey, early.mode) : checkpointMonitor.mode, early.min_delta) : undefined;
  const schedule = createLrSchedule(training.lr_schedule, training.optimizer.learning_rate, training.epochs, {
    key: checkpointKey,
    mode: checkpointMonitor.mode,
  });
  const writer = new MetricsWriter(run.file(RUN_FILES.metricsCsv), run.file(RUN_FILES.metricsJsonl), [
    'epoch',
    'lr',
    ...monitorableKeys(config),
    ...extraColumns(config),
    'time_s',
  ]);
  const train = data.train;
  const batchSize = Math.min(training.batch_size, train.size);
  const steps = Math.ceil(train.size / batchSize);
  const started = Date.now();

  const state: TrainState = options.resume?.state ?? {
    epoch: 0,
    stepInEpoch: 0,
    epochComplete: true,
    globalStep: 0,
    sums: new Array(taskNames.length + 1 + termNames.length).fill(0),
    seen: 0,
    taskSeen: new Array(taskNames.length).fill(0),
    bestEpoch: 0,
    checkpointMonitor: checkpointMonitor.getState(),
    schedule: schedule.getState(),
    weighting: weighting.getState(),
    conflicts: {},
    optimizer: optimizerKind(training.optimizer, onHost),
    trainSeconds: 0,
    samples: 0,
  };
  const taskMonitors = Object.entries(options.taskMonitors ?? {}).map(([task, m]) => ({ task, monitor: new Monitor(m.key, m.mode) }));
  if (taskMonitors.length) state.taskBest ??= {};
  for (const { task, monitor } of taskMonitors) if (state.taskBest?.[task]) monitor.setState(state.taskBest[task].monitor);
  if (options.resume) {
    checkpointMonitor.setState(state.checkpointMonitor);
    if (earlyMonitor && state.earlyMonitor) earlyMonitor.setState(state.earlyMonitor);
    schedule.setState(state.schedule);
    weighting.setState(state.weighting);
    conflicts.setState(state.conflicts);
    const kind = optimizerKind(training.optimizer, onHost);
    if (state.optimizer === kind) {
      await optimizer.setState(options.resume.optimizer);
    } else {
      progress.log(`warning: the optimizer changed from ${state.optimizer} to ${kind}; it starts without saved state`);
      state.optimizer = kind;
    }
    writer.loadExisting(state.epochComplete ? state.epoch : state.epoch - 1);
  }

  const threads = options.threads ?? 1;
  // A streamed train split has no arrays to share with worker threads: it trains on one.
  const pool = threads > 1 && backend && !train.stream ? await ReplicaPool.start({ threads, backend: backend.name, config, model, replica, train, optimizerState: options.resume?.optimizer }) : undefined;
  try {
    return await runEpochs();
  } finally {
    await pool?.close();
    optimizer.dispose();
    weighting.dispose();
  }

  async function runEpochs(): Promise<TrainResult> {
  const snapshot = async (dir: 'best' | 'last', logs?: MetricsRow) => {
    state.checkpointMonitor = checkpointMonitor.getState();
    state.earlyMonitor = earlyMonitor?.getState();
    state.schedule = schedule.getState();
    state.weighting = weighting.getState();
    state.conflicts = conflicts.getState();
    if (train.stream) state.stream = train.stream.describe();
    if (train.stream) state.stream = train.stream.describe();
    const meta = { ...options.checkpointMeta, epoch: state.epoch, step: state.globalStep, logs: logs ?? {}, state };
    const slots = await optimizer.getState();
    await saveCheckpoint(run.checkpoint(dir), model, meta, { optimizer: slots });
    tf.dispose(slots.map((s) => s.tensor));
  };

  let stopReason: StopReason = 'completed';
  let lastYield = Date.now();
  const firstEpoch = state.epochComplete ? state.epoch + 1 : state.epoch;
  epochs: for (let epoch = firstEpoch; epoch <= training.epochs; epoch++) {
    const epochStart = Date.now();
    if (state.epochComplete) {
      state.epoch = epoch;
      state.stepInEpoch = 0;
      state.epochComplete = false;
      state.sums.fill(0);
      state.seen = 0;
      state.taskSeen = new Array(taskNames.length).fill(0);
    }
    const taskSeen = state.taskSeen;
    const lr = schedule.rateFor(epoch);
    optimizer.setLearningRate(lr);
    pool?.startEpoch({ epoch, learningRate: lr, weighting: weighting.getState(), fromStep: state.stepInEpoch, globalStep: state.globalStep, batchSize });
    // Streamed: each step's batch comes from the epoch's shuffle buffer, taken whole (identity order).
    const epochStream = train.stream?.epoch?.(epoch, batchSize, state.stepInEpoch);
    const order = epochStream ? identity(batchSize) : epochOrder(train.size, config.seed, epoch);
    progress.startEpoch(epoch, training.epochs, steps);
    for (let s = state.stepInEpoch; s < steps; s++) {
      if (Date.now() - lastYield > 50) {
        // Let signal handlers and the progress bar's timers run.
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = Date.now();
      }
      if (options.stop?.requested) {
        pool?.stopEpoch();
        state.trainSeconds += (Date.now() - epochStart) / 1000;
        await snapshot('last');
        progress.stop();
        stopReason = 'interrupted';
        break epochs;
      }
      const streamed = epochStream?.next();
      const split = streamed ?? train;
      const start = streamed ? 0 : s * batchSize;
      const end = streamed ? streamed.size : Math.min(train.size, start + batchSize);
      const n = end - start;
      state.globalStep++;
      state.stepInEpoch = s + 1;
      options.beforeStep?.(replica, { split, order, start, end, globalStep: state.globalStep });
      pool?.step();
      const result = replicaStep(replica, {
        split,
        order,
        start,
        end,
        globalStep: state.globalStep,
        seed: config.seed,
        skipNonFinite: training.on_nan === 'skip_batch',
        replicas: pool?.replicas,
        reducer: pool?.reducer,
      });
      if (!result.applied || !Number.isFinite(result.total) || !Number.isFinite(result.gradNormSq)) {
        const bad = taskNames.filter((_, i) => !Number.isFinite(result.taskLosses[i]));
        const what = bad.length ? `the loss of task ${bad.join(', ')}` : 'the gradient';
        if (training.on_nan === 'skip_batch') {
          progress.log(`warning: ${what} is not finite at epoch ${epoch}, step ${s + 1}; batch skipped`);
          continue;
        }
        progress.stop();
        const kept = epoch > 1 ? `checkpoints/last still holds epoch ${epoch - 1}, the last good one` : 'no epoch had finished, so no checkpoint was written';
        throw new UserError(`training diverged: ${what} became NaN or infinite at epoch ${epoch}, step ${s + 1}; ${kept}`, {
          hint: 'lower training.optimizer.learning_rate, check the data for extreme values, or set training.on_nan: skip_batch',
        });
      }
      for (let i = 0; i < taskNames.length; i++) {
        state.sums[i] += result.taskLosses[i] * result.labelled[i];
        taskSeen[i] += result.labelled[i];
      }
      state.sums[taskNames.length] += result.total * n;
      result.terms.forEach((value, k) => (state.sums[taskNames.length + 1 + k] += value * n));
      state.seen += n;
      progress.step(s + 1, Object.fromEntries(taskNames.map((t, i) => [t, state.sums[i] / Math.max(taskSeen[i], 1)])));
    }
    state.trainSeconds += (Date.now() - epochStart) / 1000;
    state.samples += state.seen;
    state.epochComplete = true;

    const logs: MetricsRow = { epoch, lr };
    logs['train/loss'] = state.sums[taskNames.length] / state.seen;
    taskNames.forEach((t, i) => (logs[`train/${t}/loss`] = taskSeen[i] ? state.sums[i] / taskSeen[i] : NaN));
    termNames.forEach((name, k) => (logs[`train/${name}`] = state.sums[taskNames.length + 1 + k] / state.seen));
    // Weights in force during this epoch, before DWA moves them for the next one.
    weighting.weights().forEach((w, i) => (logs[`weight/${taskNames[i]}`] = w));
    weighting.afterEpoch(taskNames.map((t) => logs[`train/${t}/loss`]));
    if (diagnose) {
      const probe = probeBatch(train, Math.min(batchSize, train.size), config, taskNames, taskConfigs);
      const result = probeTaskGradients(network, taskConfigs, probe.x, probe.targets);
      tf.dispose(probe.x);
      disposeTargets(probe.targets);
      taskNames.forEach((t, i) => (logs[`grad_norm/${t}`] = result.norms[i]));
      for (let a = 0; a < taskNames.length; a++) {
        for (let b = a + 1; b < taskNames.length; b++) logs[`grad_cos/${taskNames[a]}~${taskNames[b]}`] = result.cosines[a][b];
      }
      for (const warning of conflicts.update(taskNames, result)) progress.log(warning);
    }
    if (hasValidation(config) && data.val.size > 0) Object.assign(logs, toLogs(evaluate(model, data.val, config.tasks, data.preprocessing), 'val'));
    logs.time_s = (Date.now() - epochStart) / 1000;

    schedule.afterEpoch(logs);
    const improved = checkpointMonitor.update(logs[checkpointKey]);
    const stopEarly = earlyMonitor !== undefined && (earlyMonitor.update(logs[earlyKey]), earlyMonitor.wait >= early!.patience);
    // Metrics first: a crash before checkpoints/last moves on repeats the epoch, and the
    // resumed run drops the row it rewrites, so metrics.csv never has a gap or a duplicate.
    writer.append(logs);
    options.onEpochEnd?.(logs);
    if (improved || state.bestEpoch === 0) {
      state.bestEpoch = epoch;
      await snapshot('best', logs);
    }
    let testNow: ReturnType<typeof evaluate> | undefined;
    for (const { task, monitor } of taskMonitors) {
      if (monitor.update(logs[monitor.key]) || !state.taskBest![task]) {
        if (data.test.size > 0) testNow ??= evaluate(model, data.test, config.tasks, data.preprocessing);
        const test = testNow?.tasks[task] ?? null;
        state.taskBest![task] = { epoch, key: monitor.key, value: monitor.best, test, monitor: monitor.getState() };
      } else {
        state.taskBest![task].monitor = monitor.getState();
      }
    }
    // The weights change at the next step: folded copies of them would only hold memory.
    releaseFolds(model);
    await snapshot('last', logs);
    progress.endEpoch(epochLine(logs, training.epochs, config.tasks, improved));
    if (stopEarly) {
      progress.log(`early stopping: ${earlyKey} has not improved for ${earlyMonitor!.wait} epochs (best ${formatNumber(earlyMonitor!.best)})`);
      stopReason = 'early_stopping';
      break;
    }
  }
  return {
    epochs: state.epochComplete ? state.epoch : state.epoch - 1,
    stopReason,
    bestEpoch: state.bestEpoch,
    best: { key: checkpointKey, value: checkpointMonitor.best },
    history: writer.all(),
    taskBest: state.taskBest ? Object.fromEntries(Object.entries(state.taskBest).map(([t, { monitor: _, ...best }]) => [t, best])) : undefined,
    seconds: (Date.now() - started) / 1000,
    samplesPerSecond: state.trainSeconds > 0 ? state.samples / state.trainSeconds : 0,
    state,
  };
  }
}

/** The first samples of a fixed seeded order of the training split: the same probe every epoch. */
function probeBatch(split: Split, size: number, config: Config, names: string[], tasks: TaskConfig[]) {
  if (split.stream) return batchTensors(split.stream.head(size), identity(size), 0, size, names, tasks);
  return batchTensors(split, epochOrder(split.size, config.seed, 0), 0, size, names, tasks);
}

/** `epoch  3/60  loss 0.51 (species 0.21, mass 0.30)  val/loss 0.48  species/accuracy 0.96  mass/mae 212  lr 0.005  0.4s *` */
function epochLine(logs: MetricsRow, epochs: number, tasks: Record<string, { metrics: string[] }>, improved: boolean): string {
  const names = Object.keys(tasks);
  const perTask = names.map((t) => `${t} ${formatNumber(logs[`train/${t}/loss`])}`).join(', ');
  const parts = [`epoch ${String(logs.epoch).padStart(String(epochs).length)}/${epochs}`, `loss ${formatNumber(logs['train/loss'])} (${perTask})`];
  if (logs['val/loss'] !== undefined) {
    parts.push(`val/loss ${formatNumber(logs['val/loss'])}`);
    for (const t of names) parts.push(`${t}/${tasks[t].metrics[0]} ${formatNumber(logs[`val/${t}/${tasks[t].metrics[0]}`])}`);
  }
  parts.push(`lr ${formatNumber(logs.lr)}`, `${logs.time_s.toFixed(1)}s`);
  return parts.join('  ') + (improved ? '  *' : '');
}

/** 0..n-1: the order of a batch taken whole. */
function identity(n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => i);
}
