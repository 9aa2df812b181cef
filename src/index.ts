/**
 * mtl as a library: the use cases behind the CLI verbs, with typed options and results.
 *
 *   import { train, evaluate, predict, compare } from 'mtl-tfjs';
 *   const run = await train({ config: 'configs/penguins.yaml', epochs: 10 });
 *   const scores = await evaluate({ location: run.run_dir, split: 'test' });
 *
 * Each function says nothing unless given an `output` (`{ log: console.error }` prints
 * what the CLI prints); errors are thrown as UserError subclasses carrying the CLI's
 * message, hint and exit code. The engine (wasm, cpu, tfjs-node, webgpu) is chosen as
 * the CLI chooses it, from `device` / `backend`.
 */
import { silentOutput, type Output } from './api/output-types';
import { affinityCommand, type AffinityArgs, type AffinityReport } from './api/affinity';
import { compareCommand, type CompareArgs, type Comparison } from './api/compare';
import { evalCommand, type EvalArgs, type EvalReport } from './api/eval';
import { exportCommand, type ExportArgs, type ExportResult } from './api/export';
import { initCommand, type InitArgs } from './api/init';
import { predictCommand, type PredictArgs, type PredictResult } from './api/predict';
import { reportCommand } from './api/report';
import { trainCommand, type TrainArgs, type TrainSummary } from './api/train';
import { silentProgress, type ProgressReporter } from './training/progress';
import type { StopSignal } from './training/loop';

/** Trains a model from an experiment file (or `resolvedConfig`), writes its run folder and returns summary.json's content. */
export function train(options: TrainArgs & { output?: Output; progress?: ProgressReporter; stop?: StopSignal }): Promise<TrainSummary> {
  const { output = silentOutput, progress = silentProgress, stop, ...args } = options;
  return trainCommand(args, output, progress, stop);
}

/** Per-task metrics of a saved model on a split of its data or on new data. */
export function evaluate(options: EvalArgs & { output?: Output }): Promise<EvalReport> {
  const { output = silentOutput, ...args } = options;
  return evalCommand(args, output);
}

/** Predictions for every row of a data file, with the preprocessing saved at training. */
export function predict(options: PredictArgs & { output?: Output }): Promise<PredictResult> {
  const { output = silentOutput, ...args } = options;
  return predictCommand(args, output, output);
}

/** A folder a web page uses as it is: the model, predict.js (predict(rows) as `predict` gives it), the tfjs bundles and index.html. */
export function exportForWeb(options: ExportArgs & { output?: Output }): Promise<ExportResult> {
  const { output = silentOutput, ...args } = options;
  return exportCommand(args, output);
}

/** Single-task against multi-task models (or several methods) over seeds: comparison.json's content. */
export function compare(options: CompareArgs & { output?: Output }): Promise<Comparison> {
  const { output = silentOutput, ...args } = options;
  return compareCommand(args, output, false);
}

/** Inter-task affinity measured during one joint training run, with the best task groupings. */
export function affinity(options: AffinityArgs & { output?: Output }): Promise<AffinityReport> {
  const { output = silentOutput, ...args } = options;
  return affinityCommand(args, output);
}

/** A starter experiment file typed from a data file, or an example copied with its data; returns the config's path. */
export function init(options: InitArgs & { cwd?: string; output?: Output }): string {
  const { output = silentOutput, cwd, ...args } = options;
  return initCommand(args, output, cwd);
}

/** report.html of a run, compare or sweep folder. */
export function report(options: { location: string; out?: string; output?: Output }): Promise<{ file: string; charts: number }> {
  const { output = silentOutput, ...args } = options;
  return reportCommand(args, output);
}

export type { AffinityArgs, AffinityReport, CompareArgs, Comparison, EvalArgs, EvalReport, ExportArgs, ExportResult, InitArgs, Output, PredictArgs, PredictResult, ProgressReporter, StopSignal, TrainArgs, TrainSummary };
export type { Config } from './config/schema';
export { ConfigError, DataError, UserError } from './errors';
export { mtlVersion as version } from './version';
