/**
 * `mtl compare <config.yaml>`: does multi-task learning help each task here?
 * Trains one single-task model per task (same backbone and head, only that task)
 * and the multi-task model as configured, for N seeds each, on the same split, and
 * reports per task the main test metric as mean ± std, the relative change Δ_t
 * (positive = better), Δm = mean_t Δ_t (Maninis et al. 2019), and a verdict.
 */
import type { Command } from 'commander';
import path from 'node:path';
import Table from 'cli-table3';
import cliProgress from 'cli-progress';
import { describeBackend, initBackend, type BackendName, type Device } from '../backends';
import { loadConfig, type ConfigOverrides } from '../config/load';
import type { Config } from '../config/schema';
import { writeFileAtomic } from '../outputs/atomic';
import { monitorableKeys, resolveMode } from '../training/metric-keys';
import { formatNumber, silentProgress, type ProgressReporter } from '../training/progress';
import { commonOptions, parseIntOption, type Output } from './options';
import { trainCommand, type TrainSummary } from './train';

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
}

export interface Comparison {
  config: string;
  seeds: number[];
  tasks: Record<string, TaskComparison>;
  delta_m_pct: number;
  seconds: number;
  runs: { kind: 'stl' | 'mtl'; task?: string; seed: number; run_dir: string; seconds: number }[];
}

export interface CompareArgs extends ConfigOverrides {
  config: string;
  seeds?: number;
  out?: string;
  device?: Device;
  backend?: BackendName;
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

/** Δ_t and the verdict: a difference within the seeds' spread (std of both sides added) is no clear difference. */
export function compareTask(metric: string, stlValues: number[], mtlValues: number[]): TaskComparison {
  const higher = resolveMode(`x/${metric}`, 'auto') === 'max';
  const stl = summarize(stlValues);
  const mtl = summarize(mtlValues);
  const sign = higher ? 1 : -1;
  const delta = (sign * (mtl.mean - stl.mean)) / Math.abs(stl.mean || 1e-12);
  const verdict: Verdict = Math.abs(mtl.mean - stl.mean) <= stl.std + mtl.std ? 'no clear difference' : delta > 0 ? 'helped' : 'negative transfer';
  return { metric, higher_is_better: higher, stl, mtl, delta_pct: delta * 100, verdict };
}

export async function compareCommand(args: CompareArgs, out: Output, tty = Boolean(process.stdout.isTTY) && !process.env.CI): Promise<Comparison> {
  const { config, file } = loadConfig(args.config, args);
  const seedsCount = args.seeds ?? 3;
  const backend = await initBackend({ device: args.device ?? config.device, backend: args.backend });
  out.log(describeBackend(backend));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const dir = path.resolve(args.out ?? path.join(config.output.dir, config.name!, `compare-${stamp}`));
  const tasks = Object.keys(config.tasks);
  const splitSeed = config.data.split.seed ?? config.seed;
  const seeds = Array.from({ length: seedsCount }, (_, k) => config.seed + k);
  const plan = seeds.flatMap((seed) => [
    ...tasks.map((task) => ({ kind: 'stl' as const, task, seed, config: singleTaskConfig(config, task, seed, splitSeed) })),
    { kind: 'mtl' as const, task: undefined, seed, config: { ...structuredClone(config), seed, data: { ...structuredClone(config.data), split: { ...config.data.split, seed: splitSeed } } } as Config },
  ]);
  out.log(`comparing on ${file}: ${tasks.length} single-task models and the multi-task model, ${seedsCount} seed${seedsCount === 1 ? '' : 's'} each (${plan.length} runs) -> ${dir}`);

  const bar = tty ? new cliProgress.SingleBar({ format: 'compare |{bar}| {value}/{total} epochs | {run} | ETA {eta_formatted}', hideCursor: true, etaBuffer: 200 }, cliProgress.Presets.shades_classic) : undefined;
  const totalEpochs = plan.reduce((n, p) => n + p.config.training.epochs, 0);
  let doneEpochs = 0;
  bar?.start(totalEpochs, 0, { run: '' });
  const started = Date.now();
  const results: { kind: 'stl' | 'mtl'; task?: string; seed: number; summary: TrainSummary }[] = [];
  for (const [i, run] of plan.entries()) {
    const label = `${run.kind === 'stl' ? `single-task ${run.task}` : 'multi-task'} seed ${run.seed}`;
    const before = doneEpochs;
    const progress: ProgressReporter = { ...silentProgress, endEpoch: () => bar?.update(++doneEpochs, { run: `${i + 1}/${plan.length} ${label}` }) };
    bar?.update(doneEpochs, { run: `${i + 1}/${plan.length} ${label}` });
    const runDir = path.join(dir, run.kind === 'stl' ? `stl-${run.task}-seed${run.seed}` : `mtl-seed${run.seed}`);
    const summary = await trainCommand({ resolvedConfig: run.config, out: runDir, device: args.device, backend: args.backend }, { log: () => undefined }, progress);
    doneEpochs = before + run.config.training.epochs;
    bar?.update(doneEpochs);
    results.push({ kind: run.kind, task: run.task, seed: run.seed, summary });
    if (!bar) {
      const metrics = (run.kind === 'stl' ? [run.task!] : tasks)
        .map((t) => `${t}/${config.tasks[t].metrics[0]} ${formatNumber(summary.test?.tasks[t].metrics[config.tasks[t].metrics[0]] ?? NaN)}`)
        .join('  ');
      out.log(`[${i + 1}/${plan.length}] ${label}: ${summary.epochs} epochs, ${summary.seconds.toFixed(1)}s, test ${metrics}`);
    }
  }
  bar?.stop();

  const comparison: Comparison = {
    config: path.resolve(file),
    seeds,
    tasks: {},
    delta_m_pct: 0,
    seconds: (Date.now() - started) / 1000,
    runs: results.map((r) => ({ kind: r.kind, task: r.task, seed: r.seed, run_dir: r.summary.run_dir, seconds: r.summary.seconds })),
  };
  for (const task of tasks) {
    const metric = config.tasks[task].metrics[0];
    const value = (s: TrainSummary) => s.test?.tasks[task].metrics[metric] ?? NaN;
    const stl = results.filter((r) => r.kind === 'stl' && r.task === task).map((r) => value(r.summary));
    const mtl = results.filter((r) => r.kind === 'mtl').map((r) => value(r.summary));
    comparison.tasks[task] = compareTask(metric, stl, mtl);
  }
  comparison.delta_m_pct = tasks.reduce((a, t) => a + comparison.tasks[t].delta_pct, 0) / tasks.length;
  writeFileAtomic(path.join(dir, 'comparison.json'), `${JSON.stringify(comparison, null, 2)}\n`);
  out.log(comparisonTable(comparison));
  out.log(`Δm = ${signed(comparison.delta_m_pct)}% (mean over tasks; positive: multi-task is better)   ${comparison.seconds.toFixed(1)}s   ${path.join(dir, 'comparison.json')}`);
  return comparison;
}

function signed(v: number): string {
  return `${v >= 0 ? '+' : ''}${v.toFixed(2)}`;
}

export function comparisonTable(c: Comparison): string {
  const table = new Table({
    head: ['task', 'metric', 'single-task', 'multi-task', 'Δ %', 'verdict'],
    style: { head: [], border: [], compact: true },
  });
  const pm = (s: { mean: number; std: number }) => `${formatNumber(s.mean)} ± ${formatNumber(s.std)}`;
  for (const [task, t] of Object.entries(c.tasks)) {
    table.push([task, `${t.metric} (${t.higher_is_better ? 'higher' : 'lower'} is better)`, pm(t.stl), pm(t.mtl), signed(t.delta_pct), t.verdict]);
  }
  return table.toString();
}

export function registerCompare(program: Command, out: Output): void {
  commonOptions(
    program
      .command('compare')
      .description('train single-task and multi-task models over several seeds and report whether sharing helps each task')
      .argument('<config>', 'experiment file (YAML) of the multi-task model')
      .option('--seeds <n>', 'seeds per model', parseIntOption, 3)
      .option('--out <dir>', 'folder for the runs and comparison.json')
      .option('--epochs <n>', 'override training.epochs', parseIntOption)
      .option('--threads <n>', 'data-parallel training threads per run on the wasm/cpu engines (default: auto)', parseIntOption)
      .option('--set <key=value>', 'override a config key (repeatable)', (v: string, prev: string[]) => [...prev, v], []),
  ).action(async (config: string, opts: Omit<CompareArgs, 'config'>) => {
    await compareCommand({ config, ...opts }, out);
  });
}
