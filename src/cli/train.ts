/** `mtl train <config.yaml>`: validate, load data, build, train, test, write the run folder. */
import type { Command } from 'commander';
import { hostname } from 'node:os';
import { describeBackend, initBackend, type BackendName } from '../backends';
import { configHash, configToYaml, loadConfig, type ConfigOverrides } from '../config/load';
import { loadData } from '../data/load';
import { buildModel } from '../models/build';
import { loadBackboneWeights } from '../models/pretrained';
import { loadCheckpoint } from '../outputs/checkpoint';
import type { CheckpointMeta } from '../outputs/checkpoint-meta';
import { RUN_FILES, RunDir } from '../outputs/run-dir';
import { evaluate, type Evaluation } from '../training/evaluate';
import { train, type TrainResult } from '../training/loop';
import { createProgress, formatNumber, type ProgressReporter } from '../training/progress';
import { mtlVersion } from '../version';
import { metricsTable } from './format';
import { commonOptions, parseIntOption, type Output } from './options';

export interface TrainArgs extends ConfigOverrides {
  config: string;
  /** Run folder to write instead of <output.dir>/<name>/<timestamp>. */
  out?: string;
  backend?: BackendName;
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
}

export async function trainCommand(args: TrainArgs, out: Output, progress: ProgressReporter = createProgress()): Promise<TrainSummary> {
  const { config } = loadConfig(args.config, args);
  const backend = await initBackend({ device: config.device, backend: args.backend });
  out.log(describeBackend(backend));
  const data = await loadData(config);
  for (const note of data.notes) out.log(note);
  out.log(`data: ${data.train.size} train, ${data.val.size} val, ${data.test.size} test samples of shape [${data.preprocessing.featureShape.join(', ')}]`);

  const model = buildModel(config, data.preprocessing);
  if (config.model.backbone.weights) out.log(loadBackboneWeights(model, config.model.backbone.weights));
  out.log(`model: ${config.model.backbone.type} backbone, ${config.model.sharing.type} sharing, ${model.countParams()} parameters, tasks ${Object.keys(config.tasks).join(', ')}`);

  const run = RunDir.create(config.output.dir, config.name!, args.out);
  out.log(`run folder: ${run.path}`);
  const hash = configHash(config);
  run.writeText(RUN_FILES.config, configToYaml(config));
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
    started_at: new Date().toISOString(),
  };
  run.writeJson(RUN_FILES.meta, meta);

  const checkpointMeta: Omit<CheckpointMeta, 'epoch' | 'step' | 'logs'> = {
    format: 'mtl-checkpoint',
    version: 1,
    mtlVersion,
    config,
    configHash: hash,
    preprocessing: data.preprocessing,
    tasks: Object.keys(config.tasks),
    backend: { name: backend.name, version: backend.version },
  };
  const result = await train({ config, model, data, run, progress, checkpointMeta });
  model.dispose();

  let test: Evaluation | null = null;
  if (data.test.size > 0) {
    const best = await loadCheckpoint<CheckpointMeta>(run.checkpoint('best'));
    test = evaluate(best.model, data.test, config.tasks, data.preprocessing);
    best.model.dispose();
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
  };
  run.writeJson(RUN_FILES.summary, summary);
  run.writeJson(RUN_FILES.meta, { ...meta, ended_at: new Date().toISOString(), seconds: result.seconds, epochs: result.epochs });

  out.log(
    `done: ${result.epochs} epochs in ${result.seconds.toFixed(1)}s (${formatNumber(result.samplesPerSecond)} samples/s), ` +
      `best ${result.best.key} ${formatNumber(result.best.value)} at epoch ${result.bestEpoch}`,
  );
  if (test) out.log(`test metrics (checkpoints/best):\n${metricsTable(test.tasks)}`);
  out.log(`evaluate again with: mtl eval ${run.path}`);
  return summary;
}

export function registerTrain(program: Command, out: Output): void {
  commonOptions(
    program
      .command('train')
      .description('train a multi-task model from a YAML experiment file')
      .argument('<config>', 'experiment file (YAML)')
      .option('--epochs <n>', 'override training.epochs', parseIntOption)
      .option('--batch-size <n>', 'override training.batch_size', parseIntOption)
      .option('--seed <n>', 'override seed', parseIntOption)
      .option('--out <dir>', 'write the run folder here instead of <output.dir>/<name>/<timestamp>')
      .option('--set <key=value>', 'override any config key, e.g. --set training.optimizer.learning_rate=0.01 (repeatable)', collect, []),
  ).action(async (config: string, opts: Omit<TrainArgs, 'config'>) => {
    await trainCommand({ config, ...opts }, out);
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
