/**
 * The sweep file, in the format of W&B sweep configurations:
 *
 *     method: grid | random
 *     metric: {name: val/loss, goal: minimize}
 *     parameters:
 *       training.optimizer.learning_rate: {min: 0.0001, max: 0.01, distribution: log_uniform_values}
 *       model.backbone.units: {values: [[32], [64, 64]]}
 *       training.epochs: {value: 20}
 *     run_cap: 8
 *     early_terminate: {type: hyperband, min_iter: 3, eta: 3}
 *
 * Parameters are keyed by config path (W&B's nested `parameters:` blocks also work).
 * mtl adds `seed` (of the random search; default: the config's seed). Every problem is a
 * ConfigError naming the sweep file, line and key.
 */
import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from '../errors';
import { ConfigSource, describeValue, formatPath, suggest, type ConfigPath } from '../config/source';

export const DISTRIBUTIONS = ['constant', 'categorical', 'uniform', 'int_uniform', 'log_uniform_values', 'log_uniform'] as const;
export type Distribution = (typeof DISTRIBUTIONS)[number];

export interface ParameterSpec {
  /** The config path as written: `training.optimizer.learning_rate`. */
  name: string;
  keyPath: string[];
  distribution: Distribution;
  /** categorical */
  values?: unknown[];
  probabilities?: number[];
  /** constant */
  value?: unknown;
  min?: number;
  max?: number;
}

export interface HyperbandSpec {
  type: 'hyperband';
  min_iter?: number;
  max_iter?: number;
  s?: number;
  eta: number;
  strict: boolean;
}

export interface SweepSpec {
  file: string;
  name?: string;
  description?: string;
  method: 'grid' | 'random';
  metric: { name: string; goal?: 'minimize' | 'maximize' };
  parameters: ParameterSpec[];
  run_cap?: number;
  seed?: number;
  early_terminate?: HyperbandSpec;
}

const TOP_KEYS = ['method', 'metric', 'parameters', 'run_cap', 'early_terminate', 'name', 'description', 'seed', 'program', 'command', 'project', 'entity'];
const PARAMETER_KEYS = ['values', 'value', 'distribution', 'min', 'max', 'probabilities', 'parameters'];
const HYPERBAND_KEYS = ['type', 'min_iter', 'max_iter', 's', 'eta', 'strict'];

export function readSweepFile(file: string): { spec: SweepSpec; source: ConfigSource; text: string } {
  let text: string;
  try {
    if (statSync(file).isDirectory()) throw new ConfigError(`${file}: is a directory, expected a sweep file (YAML)`);
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`${file}: no such sweep file`, 'pass the sweep configuration with --sweep sweep.yaml');
  }
  return { ...parseSweep(file, text), text };
}

export function parseSweep(file: string, text: string): { spec: SweepSpec; source: ConfigSource } {
  const source = new ConfigSource(file, text);
  if (source.doc.errors.length > 0) {
    const e = source.doc.errors[0];
    throw new ConfigError(`${file}:${source.lines.linePos(e.pos[0]).line}: YAML syntax error: ${e.message.split('\n')[0]}`, 'fix the YAML syntax at the line shown');
  }
  const raw = source.doc.toJS() as unknown;
  const problems: string[] = [];
  const fail = (path: ConfigPath, message: string, atKey = false) => problems.push(source.format({ path, message, atKey }));
  if (!isMap(raw)) throw new ConfigError(`${file}: expected a mapping with method, metric and parameters, got ${raw === null ? 'an empty file' : describeValue(raw)}`);
  unknownKeys(raw, TOP_KEYS, [], fail);

  const method = raw.method;
  if (method === undefined) fail(['method'], 'missing; expected grid | random');
  else if (method !== 'grid' && method !== 'random') fail(['method'], oneOf(['grid', 'random'], method) + (method === 'bayes' ? ' (mtl has no Bayesian search)' : ''));

  let metric: SweepSpec['metric'] = { name: 'val/loss' };
  if (raw.metric !== undefined) {
    if (!isMap(raw.metric)) fail(['metric'], `expected a mapping {name, goal}, got ${describeValue(raw.metric)}`);
    else {
      unknownKeys(raw.metric, ['name', 'goal', 'target'], ['metric'], fail);
      if (typeof raw.metric.name !== 'string' || raw.metric.name === '') fail(['metric', 'name'], `expected a metric key such as val/loss or test/species/accuracy, got ${describeValue(raw.metric.name)}`);
      else metric = { name: raw.metric.name };
      if (raw.metric.goal !== undefined) {
        if (raw.metric.goal !== 'minimize' && raw.metric.goal !== 'maximize') fail(['metric', 'goal'], oneOf(['minimize', 'maximize'], raw.metric.goal));
        else metric.goal = raw.metric.goal;
      }
    }
  }

  const parameters: ParameterSpec[] = [];
  if (raw.parameters === undefined) fail(['parameters'], 'missing; expected a mapping of config paths to {values}, {value} or {min, max, distribution}');
  else if (!isMap(raw.parameters) || Object.keys(raw.parameters).length === 0) fail(['parameters'], `expected a mapping of config paths to {values}, {value} or {min, max, distribution}, got ${describeValue(raw.parameters)}`);
  else collectParameters(raw.parameters, [], ['parameters'], parameters, fail);

  const int = (value: unknown, min: number, path: ConfigPath): number | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      fail(path, `expected an integer >= ${min}, got ${describeValue(value)}`);
      return undefined;
    }
    return value;
  };
  const run_cap = int(raw.run_cap, 1, ['run_cap']);
  const seed = int(raw.seed, 0, ['seed']);
  if (method === 'random' && raw.run_cap === undefined) fail(['run_cap'], 'missing: a random search needs run_cap, the number of trials to sample', true);
  if (method === 'grid') {
    for (const p of parameters) {
      if (p.distribution !== 'categorical' && p.distribution !== 'constant' && p.distribution !== 'int_uniform') {
        fail(['parameters', p.name], `a grid search needs values (or int_uniform) for every parameter; this one is ${p.distribution}`);
      }
    }
  }

  let early: HyperbandSpec | undefined;
  if (raw.early_terminate !== undefined) {
    const e = raw.early_terminate;
    if (!isMap(e)) fail(['early_terminate'], `expected a mapping {type: hyperband, min_iter, eta}, got ${describeValue(e)}`);
    else {
      unknownKeys(e, HYPERBAND_KEYS, ['early_terminate'], fail);
      if (e.type !== 'hyperband') fail(['early_terminate', 'type'], oneOf(['hyperband'], e.type));
      const minIter = int(e.min_iter, 1, ['early_terminate', 'min_iter']);
      const maxIter = int(e.max_iter, 1, ['early_terminate', 'max_iter']);
      const s = int(e.s, 1, ['early_terminate', 's']);
      let eta = 3;
      if (e.eta !== undefined) {
        if (typeof e.eta !== 'number' || !(e.eta > 1)) fail(['early_terminate', 'eta'], `expected a number > 1, got ${describeValue(e.eta)}`);
        else eta = e.eta;
      }
      if (e.strict !== undefined && typeof e.strict !== 'boolean') fail(['early_terminate', 'strict'], `expected true or false, got ${describeValue(e.strict)}`);
      if (e.min_iter === undefined && e.max_iter === undefined) fail(['early_terminate'], 'hyperband needs min_iter (the epoch of the first bracket) or max_iter with s');
      if (e.max_iter !== undefined && e.min_iter === undefined && e.s === undefined) fail(['early_terminate', 's'], 'missing: max_iter needs s, the number of brackets', true);
      early = { type: 'hyperband', min_iter: minIter, max_iter: maxIter, s, eta, strict: e.strict === true };
    }
  }
  const str = (key: string) => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      fail([key], `expected a string, got ${describeValue(v)}`);
      return undefined;
    }
    return v;
  };
  const name = str('name');
  const description = str('description');
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), `${problems.length} problem${problems.length === 1 ? '' : 's'} in the sweep file ${file}; see the README's Sweeps section`);
  return { spec: { file, name, description, method: method as SweepSpec['method'], metric, parameters, run_cap, seed, early_terminate: early }, source };
}

function collectParameters(map: Record<string, unknown>, prefix: string[], at: ConfigPath, out: ParameterSpec[], fail: (path: ConfigPath, message: string, atKey?: boolean) => void): void {
  for (const [key, spec] of Object.entries(map)) {
    const path = [...at, key];
    const keyPath = [...prefix, ...key.split('.')];
    const name = keyPath.join('.');
    if (keyPath.some((k) => k === '')) {
      fail(path, `"${key}" is not a config path (an empty key between dots)`, true);
      continue;
    }
    if (!isMap(spec)) {
      fail(path, `expected {values: [...]}, {value: x} or {min, max, distribution}, got ${describeValue(spec)}`);
      continue;
    }
    const before = out.length;
    unknownKeys(spec, PARAMETER_KEYS, path, fail);
    if (spec.parameters !== undefined) {
      // W&B's nested form: `training: {parameters: {epochs: {value: 3}}}`.
      if (!isMap(spec.parameters)) fail([...path, 'parameters'], `expected a mapping, got ${describeValue(spec.parameters)}`);
      else collectParameters(spec.parameters, keyPath, [...path, 'parameters'], out, fail);
      continue;
    }
    let distribution = spec.distribution as Distribution | undefined;
    if (distribution !== undefined && !(DISTRIBUTIONS as readonly string[]).includes(distribution as string)) {
      fail([...path, 'distribution'], oneOf([...DISTRIBUTIONS], distribution) + (typeof distribution === 'string' && !suggest(distribution, DISTRIBUTIONS) ? ' (mtl samples these W&B distributions)' : ''));
      continue;
    }
    if (distribution === undefined) {
      if (spec.values !== undefined) distribution = 'categorical';
      else if (spec.value !== undefined) distribution = 'constant';
      else if (typeof spec.min === 'number' && typeof spec.max === 'number') distribution = Number.isInteger(spec.min) && Number.isInteger(spec.max) ? 'int_uniform' : 'uniform';
      else {
        fail(path, 'expected values, value, or min and max (with a distribution)');
        continue;
      }
    }
    const p: ParameterSpec = { name, keyPath, distribution };
    if (distribution === 'categorical') {
      if (!Array.isArray(spec.values) || spec.values.length === 0) fail([...path, 'values'], `expected a non-empty list, got ${describeValue(spec.values)}`);
      else p.values = spec.values;
      if (spec.probabilities !== undefined) {
        const probs = spec.probabilities;
        if (!Array.isArray(probs) || probs.some((v) => typeof v !== 'number' || v < 0) || (Array.isArray(spec.values) && probs.length !== spec.values.length)) {
          fail([...path, 'probabilities'], 'expected one non-negative number per value');
        } else if (Math.abs(probs.reduce((a: number, b: number) => a + b, 0) - 1) > 1e-6) fail([...path, 'probabilities'], 'expected probabilities that add up to 1');
        else p.probabilities = probs as number[];
      }
    } else if (distribution === 'constant') {
      if (!('value' in spec)) fail(path, 'distribution constant needs value', true);
      p.value = spec.value;
    } else {
      for (const bound of ['min', 'max'] as const) {
        const v = spec[bound];
        if (typeof v !== 'number' || !Number.isFinite(v)) fail([...path, bound], `missing or not a number: distribution ${distribution} needs min and max, got ${describeValue(v)}`);
        else if (distribution === 'int_uniform' && !Number.isInteger(v)) fail([...path, bound], `expected an integer for int_uniform, got ${v}`);
        else if (distribution === 'log_uniform_values' && v <= 0) fail([...path, bound], `expected a number > 0 for log_uniform_values, got ${v}`);
        else p[bound] = v;
      }
      if (p.min !== undefined && p.max !== undefined && p.min > p.max) fail([...path, 'min'], `min ${p.min} is above max ${p.max}`);
    }
    if (out.length === before) out.push(p);
  }
}

function unknownKeys(map: Record<string, unknown>, known: string[], at: ConfigPath, fail: (path: ConfigPath, message: string, atKey?: boolean) => void): void {
  for (const key of Object.keys(map)) {
    if (known.includes(key)) continue;
    const near = suggest(key, known);
    fail([...at, key], `unknown key "${key}"; ${near ? `did you mean "${near}"?` : `known keys: ${known.join(', ')}`}`, true);
  }
}

function oneOf(options: string[], found: unknown): string {
  const near = typeof found === 'string' ? suggest(found, options) : undefined;
  return `expected ${options.join(' | ')}, got ${describeValue(found)}${near ? `; did you mean "${near}"?` : ''}`;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `file:line parameters.<name>`: where a parameter is written, for messages about it. */
export function whereParameter(source: ConfigSource, spec: ParameterSpec): string {
  const direct = ['parameters', spec.name];
  const where = source.where(direct, true);
  return `${where} ${formatPath(['parameters'])}.${spec.name}`;
}
