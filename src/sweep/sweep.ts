/**
 * `mtl sweep config.yaml --sweep sweep.yaml`: trains one ordinary run folder per trial
 * inside the sweep folder, on an executor (this process, local worker processes, or a
 * BullMQ queue), and keeps sweep.json (every trial: id, parameters, status, metric, run
 * folder), sweep.csv and the best trial's resolved config as best.yaml up to date after
 * every trial. With `early_terminate: {type: hyperband}` the trials still running are
 * ranked at each rung epoch and only the best 1/eta go on (synchronous successive
 * halving: every trial is stopped at the rung with checkpoints/last, the survivors resume
 * from it, so the outcome does not depend on the executor or its parallelism).
 * `mtl sweep --resume DIR` keeps finished trials and continues the others from their
 * checkpoints/last.
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { BackendName, Device } from '../backends';
import { configToYaml, loadConfig, validate, type ConfigOverrides } from '../config/load';
import type { Config } from '../config/schema';
import { ConfigSource, suggest } from '../config/source';
import { ConfigError, InterruptedError, UserError } from '../errors';
import { createExecutor } from '../executors';
import { parseQueueUrl } from '../executors/queue';
import type { Executor, TrainJobResult } from '../executors/types';
import { writeFileAtomic } from '../outputs/atomic';
import { RUN_FILES } from '../outputs/run-dir';
import { monitorableKeys, resolveMode, taskMetricNames } from '../training/metric-keys';
import { formatNumber } from '../training/progress';
import { hyperbandRungs, keepCount, planTrials, type Parameters } from './plan';
import { readSweepFile, whereParameter, type HyperbandSpec, type ParameterSpec, type SweepSpec } from './spec';

export const SWEEP_FILES = { state: 'sweep.json', csv: 'sweep.csv', best: 'best.yaml', spec: 'sweep.yaml', base: 'base.yaml' } as const;

export type TrialStatus = 'pending' | 'running' | 'paused' | 'stopped' | 'finished' | 'failed' | 'interrupted';

export interface TrialRecord {
  id: string;
  parameters: Parameters;
  status: TrialStatus;
  /** The sweep metric: at checkpoints/best's epoch (finished), or the best up to the rung it was stopped at. */
  metric: number | null;
  metric_epoch: number | null;
  /** Epochs trained so far. */
  epochs: number | null;
  /** Relative to the sweep folder. */
  run_dir: string;
  /** Training time over all of the trial's jobs. */
  seconds: number;
  /** Successive halving: the metric at each rung the trial reached. */
  rungs: { epoch: number; metric: number | null }[];
  stopped_at?: number;
  error?: string;
  worker?: string;
}

export interface SweepState {
  format: 'mtl-sweep';
  version: 1;
  /** Identifies the sweep's jobs (and their run folders' job.json) across resumes. */
  id: string;
  name: string;
  config: string;
  sweep: string;
  method: SweepSpec['method'];
  metric: { name: string; goal: 'minimize' | 'maximize' };
  seed: number;
  run_cap: number | null;
  early_terminate: (HyperbandSpec & { rungs: number[] }) | null;
  parameters: { name: string; distribution: string }[];
  status: 'running' | 'finished' | 'interrupted';
  executor: string;
  started_at: string;
  updated_at: string;
  /** Wall time of the sweep's sessions, added up over resumes. */
  seconds: number;
  best: { trial: string; metric: number; run_dir: string; config: string } | null;
  trials: TrialRecord[];
}

export interface SweepArgs extends ConfigOverrides {
  config?: string;
  sweep?: string;
  out?: string;
  resume?: string;
  parallel?: string;
  queue?: string;
  device?: Device;
  backend?: BackendName;
  /** Aborting it stops the sweep: running trials write checkpoints/last, sweep.json says interrupted. */
  signal?: AbortSignal;
}

interface Context {
  dir: string;
  spec: SweepSpec;
  /** The resolved base config as YAML (base.yaml), and the config file its relative paths come from. */
  baseYaml: string;
  configFile: string;
  state: SweepState;
}

export async function sweepCommand(args: SweepArgs, out: { log(m: string): void }): Promise<SweepState> {
  if (args.queue) parseQueueUrl(args.queue);
  const ctx = args.resume ? openSweep(args) : createSweep(args);
  const { dir, spec, state } = ctx;
  const mode = state.metric.goal === 'maximize' ? 'max' : 'min';
  const configs = new Map<string, Config>();
  for (const t of state.trials) {
    if (!isActive(t)) continue;
    try {
      configs.set(t.id, trialConfig(ctx, t.parameters));
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      t.status = 'failed';
      t.error = e.message;
    }
  }
  const started = Date.now();
  const priorSeconds = state.seconds;
  const active = state.trials.filter(isActive);
  const executor = await createExecutor({ parallel: args.parallel, queue: args.queue, configs: [...configs.values()], jobs: Math.max(1, active.length), log: (m) => out.log(m) });
  state.executor = executor.description;
  state.status = 'running';
  const save = () => {
    state.updated_at = new Date().toISOString();
    state.seconds = priorSeconds + (Date.now() - started) / 1000;
    writeState(dir, state);
  };
  save();
  const n = state.trials.length;
  out.log(
    `sweep ${state.name}: ${state.method} search over ${spec.parameters.length} parameter${spec.parameters.length === 1 ? '' : 's'}, ${n} trial${n === 1 ? '' : 's'}` +
      `${args.resume ? ` (${n - active.length} already done)` : ''}, metric ${state.metric.name} (${state.metric.goal})` +
      `${state.early_terminate ? `, successive halving at epochs ${state.early_terminate.rungs.join(', ') || '(none below the trials\' epochs)'} keeping 1/${state.early_terminate.eta}` : ''}; ${executor.description} -> ${dir}`,
  );
  for (const t of state.trials) if (t.status === 'failed' && t.error && !t.epochs) out.log(`${t.id} failed: ${t.error}`);

  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    executor.interrupt();
  };
  if (args.signal?.aborted) onAbort();
  args.signal?.addEventListener('abort', onAbort);
  try {
    const rungs = state.early_terminate?.rungs ?? [];
    for (let k = 0; k <= rungs.length && !interrupted; k++) {
      const rung = rungs[k] as number | undefined;
      const todo = state.trials.filter((t) => isActive(t) && configs.has(t.id) && (rung === undefined || !t.rungs.some((r) => r.epoch === rung)));
      await Promise.all(todo.map((t) => runTrial(ctx, executor, t, configs.get(t.id)!, rung, args, mode, save, out)));
      if (interrupted) break;
      if (rung !== undefined) halve(state, rung, mode, save, out);
    }
  } finally {
    args.signal?.removeEventListener('abort', onAbort);
    await executor.close();
  }
  pickBest(dir, state, mode);
  state.status = interrupted || state.trials.some(isActive) ? 'interrupted' : 'finished';
  save();
  if (state.status === 'interrupted') {
    const done = state.trials.filter((t) => !isActive(t)).length;
    throw new InterruptedError(`sweep interrupted: ${done} of ${n} trials done, the others continue from their checkpoints/last`, `resume with: mtl sweep --resume ${dir}`, typeof args.signal?.reason === 'string' ? args.signal.reason : undefined);
  }
  out.log(resultTable(state));
  out.log(
    state.best
      ? `best: ${state.best.trial} ${state.metric.name} ${formatNumber(state.best.metric)} (${describeParameters(state.trials.find((t) => t.id === state.best!.trial)!.parameters)}); its config: ${path.join(dir, SWEEP_FILES.best)}`
      : 'no trial finished with a finite metric: no best.yaml',
  );
  out.log(`${(state.seconds).toFixed(1)}s   ${path.join(dir, SWEEP_FILES.state)}   report: mtl report ${dir}`);
  return state;
}

function isActive(t: TrialRecord): boolean {
  return t.status === 'pending' || t.status === 'running' || t.status === 'paused' || t.status === 'interrupted';
}

async function runTrial(
  ctx: Context,
  executor: Executor,
  t: TrialRecord,
  config: Config,
  rung: number | undefined,
  args: SweepArgs,
  mode: 'min' | 'max',
  save: () => void,
  out: { log(m: string): void },
): Promise<void> {
  const stopAfterEpoch = rung !== undefined && rung < config.training.epochs ? rung : undefined;
  const runDir = path.join(ctx.dir, t.run_dir);
  const result = await executor.run(
    { id: t.id, key: `${ctx.state.id}/${t.id}`, runDir, config, stopAfterEpoch, device: args.device, backend: args.backend },
    {
      started: (_id, worker) => {
        t.status = 'running';
        t.worker = worker;
        save();
      },
    },
  );
  record(ctx.state, t, result, stopAfterEpoch, mode);
  save();
  const index = ctx.state.trials.indexOf(t) + 1;
  const head = `[${index}/${ctx.state.trials.length}] ${t.id}`;
  const params = describeParameters(t.parameters);
  if (t.status === 'finished') out.log(`${head} finished: ${ctx.state.metric.name} ${formatNumber(t.metric ?? NaN)} (epoch ${t.metric_epoch} of ${t.epochs}), ${params}, ${t.seconds.toFixed(1)}s`);
  else if (t.status === 'paused') out.log(`${head} reached epoch ${stopAfterEpoch}: ${ctx.state.metric.name} ${formatNumber(t.rungs[t.rungs.length - 1].metric ?? NaN)}, ${params}`);
  else if (t.status === 'failed') out.log(`${head} failed: ${t.error}`);
}

/** A job's result into its trial's record. */
export function record(state: SweepState, t: TrialRecord, result: TrainJobResult, stopAfterEpoch: number | undefined, mode: 'min' | 'max'): void {
  t.seconds += result.seconds;
  if (result.worker) t.worker = result.worker;
  const history = result.history ?? [];
  if (history.length > 0) t.epochs = Math.max(...history.map((r) => Number(r.epoch)));
  if (result.status === 'finished') {
    const summary = result.summary!;
    const m = finalMetric(state.metric.name, summary, history);
    t.status = 'finished';
    t.metric = m.value;
    t.metric_epoch = m.epoch;
    t.epochs = summary.epochs;
    delete t.error;
  } else if (result.status === 'paused') {
    const m = bestUpTo(state.metric.name, history, stopAfterEpoch!, mode);
    t.status = 'paused';
    t.rungs = [...t.rungs.filter((r) => r.epoch !== stopAfterEpoch), { epoch: stopAfterEpoch!, metric: m.value }];
    t.metric = m.value;
    t.metric_epoch = m.epoch;
  } else if (result.status === 'failed') {
    t.status = 'failed';
    t.error = result.error;
  } else {
    t.status = result.worker ? 'interrupted' : t.status === 'running' ? 'interrupted' : t.status;
  }
}

/** Successive halving at one rung: of the trials that reached it, the best 1/eta go on. */
export function halve(state: SweepState, rung: number, mode: 'min' | 'max', save: () => void, out: { log(m: string): void }): void {
  const eta = state.early_terminate!.eta;
  const ranked = state.trials
    .map((t, index) => ({ t, index, value: t.rungs.find((r) => r.epoch === rung)?.metric }))
    .filter((r) => r.value !== undefined)
    .sort((a, b) => compareValues(a.value ?? null, b.value ?? null, mode) || a.index - b.index);
  if (ranked.length === 0) return;
  const keep = keepCount(ranked.length, eta);
  const stopped: string[] = [];
  ranked.forEach((r, i) => {
    if (i >= keep && r.t.status === 'paused') {
      r.t.status = 'stopped';
      r.t.stopped_at = rung;
      stopped.push(r.t.id);
    }
  });
  if (stopped.length > 0) {
    save();
    out.log(`successive halving at epoch ${rung}: ${ranked.length} trials ranked by ${state.metric.name}, ${keep} go on (${ranked.slice(0, keep).map((r) => r.t.id).join(', ')}), stopped ${stopped.join(', ')}`);
  }
}

/** Lower is better for min, higher for max; null and NaN last. */
function compareValues(a: number | null, b: number | null, mode: 'min' | 'max'): number {
  const bad = (v: number | null) => v === null || !Number.isFinite(v);
  if (bad(a) || bad(b)) return Number(bad(a)) - Number(bad(b));
  return mode === 'min' ? a! - b! : b! - a!;
}

/** A finished trial's metric: a test metric from its summary, or a per-epoch key at checkpoints/best's epoch. */
export function finalMetric(name: string, summary: NonNullable<TrainJobResult['summary']>, history: Record<string, number | null>[]): { value: number | null; epoch: number | null } {
  if (name.startsWith('test/')) {
    const [, task, metric] = name.split('/');
    const test = summary.test;
    const value = !test ? null : name === 'test/loss' ? test.loss : metric === 'loss' ? (test.tasks[task]?.loss ?? null) : (test.tasks[task]?.metrics[metric] ?? null);
    return { value: finite(value), epoch: summary.best_epoch };
  }
  const row = history.find((r) => r.epoch === summary.best_epoch);
  return { value: finite(row?.[name] ?? null), epoch: summary.best_epoch };
}

/** The best value of a per-epoch key up to an epoch (what checkpoints/best would stand for there). */
export function bestUpTo(name: string, history: Record<string, number | null>[], epoch: number, mode: 'min' | 'max'): { value: number | null; epoch: number | null } {
  let best: { value: number | null; epoch: number | null } = { value: null, epoch: null };
  for (const row of history) {
    if (Number(row.epoch) > epoch) continue;
    const v = finite(row[name] ?? null);
    if (v !== null && (best.value === null || compareValues(v, best.value, mode) < 0)) best = { value: v, epoch: Number(row.epoch) };
  }
  return best;
}

function finite(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function pickBest(dir: string, state: SweepState, mode: 'min' | 'max'): void {
  const pool = state.trials.filter((t) => t.status === 'finished' && t.metric !== null);
  const candidates = pool.length > 0 ? pool : state.trials.filter((t) => t.status === 'stopped' && t.metric !== null);
  const best = [...candidates].sort((a, b) => compareValues(a.metric, b.metric, mode) || state.trials.indexOf(a) - state.trials.indexOf(b))[0];
  if (!best) {
    state.best = null;
    return;
  }
  const source = path.join(dir, best.run_dir, RUN_FILES.config);
  if (existsSync(source)) copyFileSync(source, path.join(dir, SWEEP_FILES.best));
  state.best = { trial: best.id, metric: best.metric!, run_dir: best.run_dir, config: SWEEP_FILES.best };
}

function writeState(dir: string, state: SweepState): void {
  writeFileAtomic(path.join(dir, SWEEP_FILES.state), `${JSON.stringify(state, null, 2)}\n`);
  writeFileAtomic(path.join(dir, SWEEP_FILES.csv), sweepCsv(state));
}

/** One row per trial: id, status, the metric, its epoch, epochs, seconds, each parameter, stopped_at, error, run_dir. */
export function sweepCsv(state: SweepState): string {
  const names = state.parameters.map((p) => p.name);
  const cell = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : v);
  const rows = state.trials.map((t) => [t.id, t.status, cell(t.metric), cell(t.metric_epoch), cell(t.epochs), t.seconds.toFixed(2), ...names.map((n) => cell(t.parameters[n])), cell(t.stopped_at), cell(t.error), t.run_dir]);
  return stringify([['trial', 'status', state.metric.name, 'metric_epoch', 'epochs', 'seconds', ...names, 'stopped_at', 'error', 'run_dir'], ...rows]);
}

export function describeParameters(p: Parameters): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? formatNumber(v) : JSON.stringify(v)}`)
    .join(' ');
}

function resultTable(state: SweepState): string {
  const mode = state.metric.goal === 'maximize' ? 'max' : 'min';
  const ranked = [...state.trials].sort((a, b) => compareValues(a.metric, b.metric, mode) || state.trials.indexOf(a) - state.trials.indexOf(b));
  const lines = ranked.slice(0, 10).map((t, i) => `  ${String(i + 1).padStart(2)}. ${t.id}  ${t.status.padEnd(8)}  ${state.metric.name} ${t.metric === null ? '-' : formatNumber(t.metric)}  ${describeParameters(t.parameters)}`);
  const more = ranked.length > 10 ? `\n  ... ${ranked.length - 10} more in sweep.csv` : '';
  const counts = (['finished', 'stopped', 'failed'] as const).map((s) => `${state.trials.filter((t) => t.status === s).length} ${s}`).join(', ');
  return `trials by ${state.metric.name} (${state.metric.goal}; ${counts}):\n${lines.join('\n')}${more}`;
}

// ---------------------------------------------------------------------------------------
// Opening a sweep: a new one from config + sweep file, or an existing folder to resume.

function createSweep(args: SweepArgs): Context {
  if (!args.config) throw new ConfigError('mtl sweep needs a config file and --sweep FILE (or --resume DIR)', 'usage: mtl sweep configs/penguins.yaml --sweep configs/sweeps/penguins.yaml');
  if (!args.sweep) throw new ConfigError('mtl sweep needs --sweep FILE: the sweep configuration (method, metric, parameters)', 'usage: mtl sweep configs/penguins.yaml --sweep configs/sweeps/penguins.yaml');
  const { config } = loadConfig(args.config, args);
  const { spec, source, text } = readSweepFile(args.sweep);
  const baseYaml = configToYaml(config);
  const ctxBase = { baseYaml, configFile: path.resolve(args.config) };
  checkAgainstConfig(spec, source, config, ctxBase, args.config);
  const seed = spec.seed ?? config.seed;
  const trials = planTrials(spec, seed);
  const maxEpochs = Math.max(...trials.map((p) => Number(p['training.epochs'] ?? config.training.epochs)).filter(Number.isFinite), config.training.epochs);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const dir = path.resolve(args.out ?? path.join(config.output.dir, config.name!, `sweep-${stamp}`));
  if (existsSync(path.join(dir, SWEEP_FILES.state))) {
    throw new ConfigError(`${dir} already holds a sweep (${SWEEP_FILES.state})`, `continue it with mtl sweep --resume ${dir}, or choose another --out`);
  }
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, SWEEP_FILES.spec), text);
  writeFileAtomic(path.join(dir, SWEEP_FILES.base), baseYaml);
  const width = Math.max(3, String(trials.length).length);
  const now = new Date().toISOString();
  const state: SweepState = {
    format: 'mtl-sweep',
    version: 1,
    id: randomUUID(),
    name: spec.name ?? config.name!,
    config: path.resolve(args.config),
    sweep: path.resolve(args.sweep),
    method: spec.method,
    metric: { name: spec.metric.name, goal: spec.metric.goal ?? (resolveMode(spec.metric.name, 'auto') === 'max' ? 'maximize' : 'minimize') },
    seed,
    run_cap: spec.run_cap ?? null,
    early_terminate: spec.early_terminate ? { ...spec.early_terminate, rungs: hyperbandRungs(spec.early_terminate, maxEpochs) } : null,
    parameters: spec.parameters.map((p) => ({ name: p.name, distribution: p.distribution })),
    status: 'running',
    executor: '',
    started_at: now,
    updated_at: now,
    seconds: 0,
    best: null,
    trials: trials.map((parameters, i) => {
      const id = `trial-${String(i + 1).padStart(width, '0')}`;
      return { id, parameters, status: 'pending', metric: null, metric_epoch: null, epochs: null, run_dir: id, seconds: 0, rungs: [] };
    }),
  };
  return { dir, spec, baseYaml, configFile: ctxBase.configFile, state };
}

function openSweep(args: SweepArgs): Context {
  if (args.config || args.sweep) throw new ConfigError('mtl sweep --resume DIR takes no config or --sweep: the sweep folder holds both', `usage: mtl sweep --resume ${args.resume}`);
  const dir = path.resolve(args.resume!);
  const stateFile = path.join(dir, SWEEP_FILES.state);
  if (!existsSync(stateFile)) throw new UserError(`--resume ${args.resume}: not a sweep folder (no ${SWEEP_FILES.state})`, { exitCode: 2, hint: 'pass the folder that mtl sweep printed' });
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as SweepState;
  if (state.format !== 'mtl-sweep') throw new UserError(`${stateFile}: not written by mtl sweep`, { exitCode: 2 });
  const { spec } = readSweepFile(path.join(dir, SWEEP_FILES.spec));
  const baseYaml = readFileSync(path.join(dir, SWEEP_FILES.base), 'utf8');
  for (const t of state.trials) if (t.status === 'running') t.status = 'interrupted';
  return { dir, spec, baseYaml, configFile: state.config, state };
}

/** A trial's config: base.yaml with the trial's parameters set, validated as any config. */
export function trialConfig(ctx: { baseYaml: string; configFile: string }, parameters: Parameters): Config {
  const source = new ConfigSource(ctx.configFile, ctx.baseYaml);
  for (const [name, value] of Object.entries(parameters)) {
    try {
      source.override({ path: name.split('.'), flag: `parameters.${name}=${JSON.stringify(value)}` }, value);
    } catch {
      throw new ConfigError(`parameters.${name}: not a config key (${name.split('.').slice(0, -1).join('.')} holds no mapping)`);
    }
  }
  return validate(source).config;
}

/** Parameter paths must be config keys and the metric a key mtl logs: config errors naming the sweep file, before anything trains. */
function checkAgainstConfig(spec: SweepSpec, source: ConfigSource, config: Config, base: { baseYaml: string; configFile: string }, configFile: string): void {
  const problems: string[] = [];
  for (const p of spec.parameters) {
    const probe = representative(p);
    try {
      trialConfig(base, { [p.name]: probe });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const lines = e.message.split('\n');
      const unknown = lines.find((l) => p.keyPath.some((k) => l.includes(`unknown key "${k}"`)) || l.includes('not a config key'));
      if (unknown) {
        const reason = unknown.slice(unknown.indexOf(unknown.includes('unknown key') ? 'unknown key' : 'not a config key'));
        problems.push(`${whereParameter(source, p)}: "${p.name}" is not a key of ${configFile} (${reason})`);
      }
      // Other complaints are about this value; a trial with it fails and is recorded with the error.
    }
  }
  const keys = monitorableKeys(config);
  const testKeys = ['test/loss', ...Object.entries(config.tasks).flatMap(([t, c]) => [`test/${t}/loss`, ...taskMetricNames(c).map((m) => `test/${t}/${m}`)])];
  const name = spec.metric.name;
  if (!keys.includes(name) && !testKeys.includes(name)) {
    const near = suggest(name, [...keys, ...testKeys]);
    problems.push(`${source.where(['metric', 'name'])} metric.name: "${name}" is not a metric mtl logs for this config${near ? `; did you mean "${near}"?` : ''} (per epoch: ${keys.join(', ')}; after training: test/<task>/<metric>)`);
  } else if (spec.early_terminate && testKeys.includes(name)) {
    problems.push(`${source.where(['early_terminate'])} early_terminate: hyperband ranks trials during training, so metric.name must be a per-epoch key (${keys.slice(0, 4).join(', ')}, ...), not the test metric ${name}`);
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), `${problems.length} problem${problems.length === 1 ? '' : 's'} in the sweep file ${spec.file}; parameters are keyed by config path, e.g. training.optimizer.learning_rate`);
}

function representative(p: ParameterSpec): unknown {
  if (p.distribution === 'constant') return p.value;
  if (p.distribution === 'categorical') return p.values![0];
  if (p.distribution === 'log_uniform') return Math.exp(p.min!);
  return p.min;
}
