/**
 * `mtl compare <config.yaml>`: does multi-task learning help each task here?
 * Trains one single-task model per task (same backbone and head, only that task)
 * and the multi-task model as configured, for N seeds each, on the same split, and
 * reports per task the main test metric as mean ± std, the relative change Δ_t
 * (positive = better), Δm = mean_t Δ_t (Maninis et al. 2019), and a verdict.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import Table from 'cli-table3';
import cliProgress from 'cli-progress';
import { describeBackend, initBackend, type BackendName, type Device } from '../backends';
import { loadConfig, type ConfigOverrides } from '../config/load';
import type { Config } from '../config/schema';
import { featureColumns } from '../data/tabular';
import { createExecutor } from '../executors';
import { ConfigError, UserError } from '../errors';
import { suggest } from '../config/source';
import { sharingRegistry } from '../models/sharing';
import { weightingRegistry } from '../weighting';
import { writeFileAtomic } from '../outputs/atomic';
import { monitorableKeys, resolveMode } from '../training/metric-keys';
import { formatNumber } from '../training/progress';
import { kernelThreads } from '../training/threads';
import { type Output } from './output-types';
import type { TrainSummary } from './train';

export type Verdict = 'helped' | 'no clear difference' | 'negative transfer';

export interface TaskComparison {
  metric: string;
  /** Whether a higher value of the metric is better. */
  higher_is_better: boolean;
  stl: { mean: number; std: number; values: number[] };
  mtl: { mean: number; std: number; values: number[] };
  /** (mtl − stl) / |stl| · 100, with the sign set so that positive means better. */
  delta_pct: number;
  verdict: Verdict;
  /** Test rows each side scored this task on (identical by construction; compare stops otherwise). */
  test_rows: { stl: number; mtl: number };
  /**
   * The multi-task model's score on this task at the task's own best validation epoch
   * (by the monitor its single-task model uses) rather than at the one checkpoint all
   * tasks share: the gap between this and `mtl` is the cost of the shared checkpoint.
   */
  mtl_own_best: { mean: number; std: number; values: number[]; epochs: number[]; monitor: string };
}

/** One multi-task method of `mtl compare --methods` against the same single-task models. */
export interface MethodComparison {
  /** As given: `<weighting>` or `<sharing>+<weighting>`. */
  method: string;
  sharing: string;
  weighting: string;
  tasks: Record<string, TaskComparison>;
  delta_m_pct: number;
  /** 1 = the highest Δm. */
  rank: number;
  /** Mean seconds per training epoch (validation included) over the seeds. */
  epoch_seconds: number;
  /** epoch_seconds / that of `fixed` with the config's sharing (or of the first method without one). */
  time_vs_fixed: number;
}

export interface Comparison {
  config: string;
  seeds: number[];
  /** The multi-task model as configured (with --methods: the first method). */
  tasks: Record<string, TaskComparison>;
  delta_m_pct: number;
  /** With --methods: every method, best Δm first. */
  methods?: MethodComparison[];
  seconds: number;
  runs: { kind: 'stl' | 'mtl'; task?: string; method?: string; seed: number; run_dir: string; seconds: number }[];
}

export interface CompareArgs extends ConfigOverrides {
  config: string;
  seeds?: number;
  /** Comma-separated `<weighting>` or `<sharing>+<weighting>` specs, each a multi-task model of its own. */
  methods?: string;
  out?: string;
  device?: Device;
  backend?: BackendName;
  /** Runs at once in local worker processes (a number or auto); default 1: this process, one after another. */
  parallel?: string;
  /** A BullMQ queue (redis://host:port/db) served by mtl worker processes. */
  queue?: string;
}

/** The config of the single-task model for `task`: only that task, plain weighting, monitors that exist. */
export function singleTaskConfig(config: Config, task: string, seed: number, splitSeed: number): Config {
  const single: Config = structuredClone(config);
  single.seed = seed;
  single.data.split.seed = splitSeed;
  single.tasks = { [task]: { ...config.tasks[task], weight: 1 } };
  single.training.weighting = { type: 'fixed' };
  single.name = `${config.name}-stl-${task}`;
  const keys = monitorableKeys(single);
  const fallback = keys.includes('val/loss') ? 'val/loss' : 'train/loss';
  const fix = (key: string | undefined) => (key === undefined || keys.includes(key) ? key : fallback);
  single.training.checkpoint.monitor = fix(single.training.checkpoint.monitor)!;
  if (single.training.early_stopping) single.training.early_stopping.monitor = fix(single.training.early_stopping.monitor);
  if (single.training.lr_schedule.type === 'plateau') single.training.lr_schedule.monitor = fix(single.training.lr_schedule.monitor);
  return single;
}

export function summarize(values: number[]): { mean: number; std: number; values: number[] } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = values.length > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, std, values };
}

/**
 * The key the single-task model of `task` picks its checkpoint by, as the multi-task
 * model logs it: its total `val/loss` is the task's `val/<task>/loss` there.
 */
export function ownMonitor(config: Config, task: string): { key: string; mode: 'min' | 'max' } {
  const single = singleTaskConfig(config, task, config.seed, config.data.split.seed ?? config.seed);
  const { monitor, mode } = single.training.checkpoint;
  const key = monitor === 'val/loss' ? `val/${task}/loss` : monitor === 'train/loss' ? `train/${task}/loss` : monitor;
  return { key, mode: resolveMode(monitor, mode) };
}

/** Δ_t and the verdict: a difference within the seeds' spread (std of both sides added) is no clear difference. */
export function compareTask(metric: string, stlValues: number[], mtlValues: number[]): Omit<TaskComparison, 'test_rows' | 'mtl_own_best'> {
  const higher = resolveMode(`x/${metric}`, 'auto') === 'max';
  const stl = summarize(stlValues);
  const mtl = summarize(mtlValues);
  const sign = higher ? 1 : -1;
  const delta = (sign * (mtl.mean - stl.mean)) / Math.abs(stl.mean || 1e-12);
  const verdict: Verdict = Math.abs(mtl.mean - stl.mean) <= stl.std + mtl.std ? 'no clear difference' : delta > 0 ? 'helped' : 'negative transfer';
  return { metric, higher_is_better: higher, stl, mtl, delta_pct: delta * 100, verdict };
}

interface MethodSpec {
  method: string;
  sharing: string;
  weighting: string;
  config: Config;
}

/**
 * `fixed,pcgrad,mmoe+uncertainty` -> one validated config per method: the given sharing
 * and weighting replace the config's (whose options are kept when the type is the same).
 */
export function methodConfigs(args: CompareArgs, config: Config): MethodSpec[] {
  if (!args.methods) return [{ method: `${config.model.sharing.type}+${config.training.weighting.type}`, sharing: config.model.sharing.type, weighting: config.training.weighting.type, config }];
  const specs = args.methods.split(',').map((m) => m.trim()).filter(Boolean);
  if (specs.length === 0) throw new ConfigError('--methods: no method given', 'for example --methods fixed,uncertainty,pcgrad or --methods hard+fixed,mmoe+pcgrad');
  return specs.map((method) => {
    const parts = method.split('+');
    if (parts.length > 2) throw new ConfigError(`--methods ${method}: expected <weighting> or <sharing>+<weighting>`, 'for example mmoe+pcgrad');
    const [sharing, weighting] = parts.length === 2 ? parts : [config.model.sharing.type, parts[0]];
    const known = (name: string, registry: object, what: string) => {
      if (!(name in registry)) {
        const near = suggest(name, Object.keys(registry));
        throw new ConfigError(`--methods ${method}: unknown ${what} "${name}"${near ? `; did you mean "${near}"?` : ''}`, `${what}s: ${Object.keys(registry).join(', ')}`);
      }
    };
    known(sharing, sharingRegistry, 'sharing scheme');
    known(weighting, weightingRegistry, 'weighting method');
    const set = [...(args.set ?? [])];
    if (sharing !== config.model.sharing.type) set.push(`model.sharing={type: ${sharing}}`);
    if (weighting !== config.training.weighting.type) set.push(`training.weighting={type: ${weighting}}`);
    try {
      return { method, sharing, weighting, config: loadConfig(args.config, { ...args, set }).config };
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(`--methods ${method}: ${e.message}`, e.hint);
      throw e;
    }
  });
}

export async function compareCommand(args: CompareArgs, out: Output, tty = Boolean(process.stdout.isTTY) && !process.env.CI): Promise<Comparison> {
  const { config, file } = loadConfig(args.config, args);
  // Every model reads the same input columns: without this a single-task model would
  // take the other tasks' target columns as features.
  const columns = (c: Config) => {
    if ((c.data.format === 'csv' || c.data.format === 'jsonl' || c.data.format === 'parquet') && !c.data.inputs) c.data.features = featureColumns(config);
    return c;
  };
  columns(config);
  const methods = methodConfigs(args, config).map((m) => ({ ...m, config: columns(m.config) }));
  const seedsCount = args.seeds ?? 3;
  const backend = await initBackend({ device: args.device ?? config.device, backend: args.backend, kernelThreads: kernelThreads(config) });
  out.log(describeBackend(backend));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const dir = path.resolve(args.out ?? path.join(config.output.dir, config.name!, `compare-${stamp}`));
  const tasks = Object.keys(config.tasks);
  const splitSeed = config.data.split.seed ?? config.seed;
  const seeds = Array.from({ length: seedsCount }, (_, k) => config.seed + k);
  const withSeed = (c: Config, seed: number) => ({ ...structuredClone(c), seed, data: { ...structuredClone(c.data), split: { ...c.data.split, seed: splitSeed } } }) as Config;
  const plan = seeds.flatMap((seed) => [
    ...tasks.map((task) => ({ kind: 'stl' as const, task, method: undefined, seed, config: singleTaskConfig(config, task, seed, splitSeed) })),
    ...methods.map((m) => ({ kind: 'mtl' as const, task: undefined, method: args.methods ? m.method : undefined, seed, config: withSeed(m.config, seed) })),
  ]);
  const taskMonitors = Object.fromEntries(tasks.map((t) => [t, ownMonitor(config, t)]));
  const models = args.methods ? `${methods.length} multi-task methods (${methods.map((m) => m.method).join(', ')})` : 'the multi-task model';
  out.log(`comparing on ${file}: ${tasks.length} single-task models and ${models}, ${seedsCount} seed${seedsCount === 1 ? '' : 's'} each (${plan.length} runs) -> ${dir}`);

  const bar = tty ? new cliProgress.SingleBar({ format: 'compare |{bar}| {value}/{total} epochs | {run} | ETA {eta_formatted}', hideCursor: true, etaBuffer: 200 }, cliProgress.Presets.shades_classic) : undefined;
  const totalEpochs = plan.reduce((n, p) => n + p.config.training.epochs, 0);
  let doneEpochs = 0;
  bar?.start(totalEpochs, 0, { run: '' });
  const started = Date.now();
  // The executor: this process, one run after another (the default), local worker
  // processes (--parallel N) or a BullMQ queue (--queue). Each run's result is the same
  // wherever it trains; the table is built in plan order either way.
  const executor = await createExecutor({ parallel: args.parallel ?? (args.queue ? undefined : 1), queue: args.queue, configs: plan.map((p) => p.config), jobs: plan.length, log: (m) => out.log(m) });
  if (executor.kind !== 'in-process') out.log(`runs on ${executor.description}`);
  const compareId = randomUUID();
  const summaries: TrainSummary[] = new Array(plan.length);
  try {
    await Promise.all(
      plan.map(async (run, i) => {
        const label = `${run.kind === 'stl' ? `single-task ${run.task}` : `multi-task${run.method ? ` ${run.method}` : ''}`} seed ${run.seed}`;
        const runDir = path.join(dir, run.kind === 'stl' ? `stl-${run.task}-seed${run.seed}` : `mtl-${run.method ? `${run.method}-` : ''}seed${run.seed}`);
        let seen = 0;
        const result = await executor.run(
          { id: path.basename(runDir), key: `${compareId}/${path.basename(runDir)}`, runDir, config: run.config, device: args.device, backend: args.backend, taskMonitors: run.kind === 'mtl' ? taskMonitors : undefined },
          {
            started: () => bar?.update(doneEpochs, { run: `${i + 1}/${plan.length} ${label}` }),
            epoch: () => {
              seen++;
              bar?.update(++doneEpochs, { run: `${i + 1}/${plan.length} ${label}` });
            },
          },
        );
        if (result.status !== 'finished') {
          throw new UserError(result.error ?? `${label}: ${result.status}`, { hint: result.hint, exitCode: (result.exitCode as 0 | 1 | 2 | 130 | undefined) ?? (result.status === 'interrupted' ? 130 : 1) });
        }
        const summary = result.summary!;
        // Early stopping ends a run before its epochs: the bar counts the planned ones.
        doneEpochs += run.config.training.epochs - seen;
        bar?.update(doneEpochs);
        summaries[i] = summary;
        if (!bar) {
          const metrics = (run.kind === 'stl' ? [run.task!] : tasks)
            .map((t) => `${t}/${config.tasks[t].metrics[0]} ${formatNumber(summary.test?.tasks[t].metrics[config.tasks[t].metrics[0]] ?? NaN)}`)
            .join('  ');
          out.log(`[${i + 1}/${plan.length}] ${label}: ${summary.epochs} epochs, ${summary.seconds.toFixed(1)}s, test ${metrics}`);
        }
      }),
    );
  } catch (e) {
    executor.interrupt();
    throw e;
  } finally {
    await executor.close();
  }
  const results = plan.map((run, i) => ({ kind: run.kind, task: run.task, method: run.method, seed: run.seed, summary: summaries[i] }));
  bar?.stop();

  const methodResults = methods.map((m) => {
    const mtlRuns = results.filter((r) => r.kind === 'mtl' && r.method === (args.methods ? m.method : undefined));
    const taskResults: Record<string, TaskComparison> = {};
    for (const task of tasks) {
      const metric = config.tasks[task].metrics[0];
      const value = (s: TrainSummary) => s.test?.tasks[task].metrics[metric] ?? NaN;
      const stlRuns = results.filter((r) => r.kind === 'stl' && r.task === task);
      const rows = sameTestRows(task, [...stlRuns, ...mtlRuns]);
      const ownBest = mtlRuns.map((r) => r.summary.task_best![task]);
      taskResults[task] = {
        ...compareTask(metric, stlRuns.map((r) => value(r.summary)), mtlRuns.map((r) => value(r.summary))),
        test_rows: { stl: rows, mtl: rows },
        mtl_own_best: { ...summarize(ownBest.map((b) => b.test?.metrics[metric] ?? NaN)), epochs: ownBest.map((b) => b.epoch), monitor: taskMonitors[task].key },
      };
    }
    const deltaM = tasks.reduce((a, t) => a + taskResults[t].delta_pct, 0) / tasks.length;
    const epochSeconds = summarize(mtlRuns.map((r) => r.summary.seconds / Math.max(1, r.summary.epochs))).mean;
    return { method: m.method, sharing: m.sharing, weighting: m.weighting, tasks: taskResults, delta_m_pct: deltaM, rank: 0, epoch_seconds: epochSeconds, time_vs_fixed: NaN };
  });
  const baseline = methodResults.find((m) => m.weighting === 'fixed' && m.sharing === config.model.sharing.type) ?? methodResults[0];
  for (const m of methodResults) m.time_vs_fixed = m.epoch_seconds / baseline.epoch_seconds;
  [...methodResults].sort((a, b) => b.delta_m_pct - a.delta_m_pct).forEach((m, k) => (m.rank = k + 1));

  const comparison: Comparison = {
    config: path.resolve(file),
    seeds,
    tasks: methodResults[0].tasks,
    delta_m_pct: methodResults[0].delta_m_pct,
    ...(args.methods ? { methods: [...methodResults].sort((a, b) => a.rank - b.rank) } : {}),
    seconds: (Date.now() - started) / 1000,
    runs: results.map((r) => ({ kind: r.kind, task: r.task, method: r.method, seed: r.seed, run_dir: r.summary.run_dir, seconds: r.summary.seconds })),
  };
  writeFileAtomic(path.join(dir, 'comparison.json'), `${JSON.stringify(comparison, null, 2)}\n`);
  if (comparison.methods) {
    out.log(methodsTable(comparison.methods, tasks));
    out.log(`Δm: mean over tasks of the change against single-task models (positive: multi-task is better); time per epoch relative to ${baseline.method}   ${comparison.seconds.toFixed(1)}s   ${path.join(dir, 'comparison.json')}`);
  } else {
    out.log(comparisonTable(comparison));
    out.log(`Δm = ${signed(comparison.delta_m_pct)}% (mean over tasks; positive: multi-task is better)   ${comparison.seconds.toFixed(1)}s   ${path.join(dir, 'comparison.json')}`);
  }
  return comparison;
}

/** One row per method: each task's mean ± std (single-task first), Δm, rank and relative time. */
export function methodsTable(methods: MethodComparison[], tasks: string[]): string {
  const pm = (s: { mean: number; std: number }) => `${formatNumber(s.mean)} ± ${formatNumber(s.std)}`;
  const first = methods[0].tasks;
  const table = new Table({
    head: ['method', ...tasks.map((t) => `${t} ${first[t].metric} (${first[t].higher_is_better ? '↑' : '↓'})`), 'Δm %', 'rank', 'time / epoch vs fixed'],
    style: { head: [], border: [], compact: true },
  });
  table.push(['single-task', ...tasks.map((t) => pm(first[t].stl)), '', '', '']);
  for (const m of methods) table.push([m.method, ...tasks.map((t) => pm(m.tasks[t].mtl)), signed(m.delta_m_pct), String(m.rank), `${m.time_vs_fixed.toFixed(2)}x`]);
  return table.toString();
}

/**
 * Both sides of a task must be scored on the same test rows, or the comparison says
 * nothing about sharing; returns their count.
 */
export function sameTestRows(task: string, runs: { kind: 'stl' | 'mtl'; seed: number; summary: TrainSummary }[]): number {
  const [first, ...rest] = runs;
  const reference = first.summary.testRows?.[task] ?? [];
  for (const run of rest) {
    const rows = run.summary.testRows?.[task] ?? [];
    if (rows.length !== reference.length || rows.some((r, i) => r !== reference[i])) {
      throw new UserError(
        `mtl compare: task ${task} was tested on ${reference.length} rows by the ${first.kind === 'stl' ? 'single' : 'multi'}-task model (seed ${first.seed}) and on ${rows.length} other rows by the ${run.kind === 'stl' ? 'single' : 'multi'}-task model (seed ${run.seed}); the comparison would not be fair`,
        { hint: 'report this as a bug; set data.split.seed and data.missing_targets: mask so every model sees the same split' },
      );
    }
  }
  return reference.length;
}

function signed(v: number): string {
  return `${v >= 0 ? '+' : ''}${v.toFixed(2)}`;
}

export function comparisonTable(c: Comparison): string {
  const table = new Table({
    head: ['task', 'metric', 'test rows', 'single-task', 'multi-task', 'Δ %', 'verdict', 'multi-task, own best epoch'],
    style: { head: [], border: [], compact: true },
  });
  const pm = (s: { mean: number; std: number }) => `${formatNumber(s.mean)} ± ${formatNumber(s.std)}`;
  for (const [task, t] of Object.entries(c.tasks)) {
    table.push([task, `${t.metric} (${t.higher_is_better ? 'higher' : 'lower'} is better)`, String(t.test_rows.stl), pm(t.stl), pm(t.mtl), signed(t.delta_pct), t.verdict, pm(t.mtl_own_best)]);
  }
  return table.toString();
}
