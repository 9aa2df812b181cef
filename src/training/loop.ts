/**
 * The training loop: epochs of shuffled mini-batches, validation, learning-rate
 * schedule, best/last checkpoints, early stopping, metrics rows and progress.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Config } from '../config/schema';
import { epochOrder, gatherBatch } from '../data/batches';
import { deriveSeed } from '../data/rng';
import type { LoadedData } from '../data/types';
import { UserError } from '../errors';
import { saveCheckpoint } from '../outputs/checkpoint';
import { MetricsWriter, type MetricsRow } from '../outputs/metrics-writer';
import { RUN_FILES, type RunDir } from '../outputs/run-dir';
import { evaluate, toLogs } from './evaluate';
import { createLrSchedule } from './lr-schedule';
import { hasValidation, monitorableKeys, resolveMode } from './metric-keys';
import { Monitor } from './monitor';
import { createOptimizer, setLearningRate } from './optimizer';
import { formatNumber, type ProgressReporter } from './progress';
import { TrainStep } from './step';

export interface TrainOptions {
  config: Config;
  model: tfl.LayersModel;
  data: LoadedData;
  run: RunDir;
  progress: ProgressReporter;
  /** Stored in every checkpoint's metadata (config, preprocessing, backend, ...). */
  checkpointMeta: Record<string, unknown>;
}

export type StopReason = 'completed' | 'early_stopping';

export interface TrainResult {
  epochs: number;
  stopReason: StopReason;
  bestEpoch: number;
  best: { key: string; value: number };
  history: readonly MetricsRow[];
  seconds: number;
  samplesPerSecond: number;
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const { config, model, data, run, progress } = options;
  const taskNames = Object.keys(config.tasks);
  const taskConfigs = taskNames.map((t) => config.tasks[t]);
  const training = config.training;
  const optimizer = createOptimizer(training.optimizer);
  const step = new TrainStep(model, taskConfigs, optimizer);
  const checkpointKey = training.checkpoint.monitor;
  const checkpointMonitor = new Monitor(checkpointKey, resolveMode(checkpointKey, training.checkpoint.mode));
  const early = training.early_stopping;
  const earlyKey = early?.monitor ?? checkpointKey;
  const earlyMonitor = early
    ? new Monitor(earlyKey, resolveMode(earlyKey, early.mode), early.min_delta)
    : undefined;
  const schedule = createLrSchedule(training.lr_schedule, training.optimizer.learning_rate, training.epochs, {
    key: checkpointKey,
    mode: checkpointMonitor.mode,
  });
  const writer = new MetricsWriter(run.file(RUN_FILES.metricsCsv), run.file(RUN_FILES.metricsJsonl), [
    'epoch',
    'lr',
    ...monitorableKeys(config),
    'time_s',
  ]);
  const dropoutLayers = model.layers.filter((l) => l.getClassName() === 'Dropout');
  const weights = taskConfigs.map((t) => t.weight);
  const train = data.train;
  const batchSize = Math.min(training.batch_size, train.size);
  const steps = Math.ceil(train.size / batchSize);
  const started = Date.now();
  let trainSeconds = 0;
  let samples = 0;
  let globalStep = 0;
  let bestEpoch = 0;
  let stopReason: StopReason = 'completed';
  let epoch = 0;

  for (epoch = 1; epoch <= training.epochs; epoch++) {
    const epochStart = Date.now();
    const lr = schedule.rateFor(epoch);
    setLearningRate(optimizer, lr);
    const order = epochOrder(train.size, config.seed, epoch);
    const sums = new Float64Array(taskNames.length + 1);
    let seen = 0;
    progress.startEpoch(epoch, training.epochs, steps);
    for (let s = 0; s < steps; s++) {
      const start = s * batchSize;
      const end = Math.min(train.size, start + batchSize);
      const batch = gatherBatch(train, order, start, end);
      const n = end - start;
      globalStep++;
      // Dropout masks come from the run's seed, step by step, so runs repeat exactly.
      dropoutLayers.forEach((layer, i) => ((layer as unknown as { seed: number }).seed = deriveSeed(config.seed, 0x44524f, globalStep, i)));
      const x = tf.tensor(batch.features, [n, ...train.featureShape]);
      const targets = taskNames.map((t, i) =>
        taskConfigs[i].type === 'classification'
          ? tf.tensor1d(batch.targets[t] as Int32Array, 'int32')
          : tf.tensor2d(batch.targets[t] as Float32Array, [n, (batch.targets[t] as Float32Array).length / n]),
      );
      const result = step.run(x, targets, weights, training.on_nan === 'skip_batch');
      x.dispose();
      targets.forEach((t) => t.dispose());
      if (!result.applied || !Number.isFinite(result.total) || !Number.isFinite(result.gradNormSq)) {
        const bad = taskNames.filter((_, i) => !Number.isFinite(result.taskLosses[i]));
        const what = bad.length ? `the loss of task ${bad.join(', ')}` : 'the gradient';
        if (training.on_nan === 'skip_batch') {
          progress.log(`warning: ${what} is not finite at epoch ${epoch}, step ${s + 1}; batch skipped`);
          continue;
        }
        throw new UserError(`training diverged: ${what} became NaN or infinite at epoch ${epoch}, step ${s + 1}`, {
          hint: `checkpoints/last holds the last good epoch (${epoch - 1}). Lower training.optimizer.learning_rate, check the data for extreme values, or set training.on_nan: skip_batch`,
        });
      }
      for (let i = 0; i < taskNames.length; i++) sums[i] += result.taskLosses[i] * n;
      sums[taskNames.length] += result.total * n;
      seen += n;
      progress.step(s + 1, Object.fromEntries(taskNames.map((t, i) => [t, sums[i] / seen])));
    }
    trainSeconds += (Date.now() - epochStart) / 1000;
    samples += seen;

    const logs: MetricsRow = { epoch, lr };
    logs['train/loss'] = sums[taskNames.length] / seen;
    taskNames.forEach((t, i) => (logs[`train/${t}/loss`] = sums[i] / seen));
    if (hasValidation(config) && data.val.size > 0) Object.assign(logs, toLogs(evaluate(model, data.val, config.tasks, data.preprocessing), 'val'));
    logs.time_s = (Date.now() - epochStart) / 1000;

    schedule.afterEpoch(logs);
    const improved = checkpointMonitor.update(logs[checkpointKey]);
    const meta = { ...options.checkpointMeta, epoch, step: globalStep, logs };
    if (improved || bestEpoch === 0) {
      bestEpoch = epoch;
      await saveCheckpoint(run.checkpoint('best'), model, meta);
    }
    await saveCheckpoint(run.checkpoint('last'), model, meta);
    writer.append(logs);
    progress.endEpoch(epochLine(logs, training.epochs, config.tasks, improved));
    if (earlyMonitor) {
      earlyMonitor.update(logs[earlyKey]);
      if (earlyMonitor.wait >= (early?.patience ?? Infinity)) {
        progress.log(`early stopping: ${earlyKey} has not improved for ${earlyMonitor.wait} epochs (best ${formatNumber(earlyMonitor.best)})`);
        stopReason = 'early_stopping';
        break;
      }
    }
  }
  optimizer.dispose();
  return {
    epochs: Math.min(epoch, training.epochs),
    stopReason,
    bestEpoch,
    best: { key: checkpointKey, value: checkpointMonitor.best },
    history: writer.all(),
    seconds: (Date.now() - started) / 1000,
    samplesPerSecond: trainSeconds > 0 ? samples / trainSeconds : 0,
  };
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
