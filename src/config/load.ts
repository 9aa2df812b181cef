/**
 * Reading an experiment file: YAML (with positions) -> overrides from flags ->
 * schema with defaults -> cross-field checks -> paths resolved. Every problem found
 * is reported at once, each with file, line and YAML path.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYamlValue, stringify } from 'yaml';
import { ConfigError } from '../errors';
import { crossFieldIssues } from './checks';
import { fromZodIssues, valueAt } from './issues';
import { configSchema, type Config } from './schema';
import { ConfigSource, type ConfigIssue } from './source';
import { hasValidation } from '../training/metric-keys';

/** Values from the command line that take precedence over the file. */
export interface ConfigOverrides {
  epochs?: number;
  batchSize?: number;
  seed?: number;
  device?: string;
  threads?: number;
  /** `path.to.key=value` pairs; the value is read as YAML (`3`, `true`, `[32, 16]`). */
  set?: string[];
}

export interface LoadedConfig {
  /** Validated, with defaults filled in, `name` set and every input path absolute. */
  config: Config;
  /** The config file as the user named it. */
  file: string;
  source: ConfigSource;
}

export function loadConfig(file: string, overrides: ConfigOverrides = {}): LoadedConfig {
  const source = new ConfigSource(file, readConfigText(file));
  if (source.doc.errors.length > 0) {
    const lines = source.doc.errors.map((e) => {
      const line = source.lines.linePos(e.pos[0]).line;
      return `${file}${line ? `:${line}` : ''}: YAML syntax error: ${e.message.split('\n')[0]}`;
    });
    throw new ConfigError(lines.join('\n'), 'fix the YAML syntax at the line shown');
  }
  applyOverrides(source, overrides);
  return validate(source);
}

/** Validates an already-parsed source (also used for configs stored in run folders). */
export function validate(source: ConfigSource): LoadedConfig {
  const raw = source.doc.toJS() as unknown;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${source.file}: expected a mapping of sections (name, data, model, tasks, training, output), got ${raw === null ? 'an empty file' : typeof raw}`);
  }
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) fail(source, fromZodIssues(parsed.error.issues, configSchema, raw));
  const config = parsed.data;
  config.name ??= path.basename(source.file).replace(/\.ya?ml$/i, '').replace(/[^A-Za-z0-9_-]/g, '_');
  if (valueAt(raw, ['training', 'checkpoint', 'monitor']) === undefined && !hasValidation(config)) {
    config.training.checkpoint.monitor = 'train/loss';
  }
  const issues = crossFieldIssues(config);
  if (issues.length > 0) fail(source, issues);
  resolvePaths(config, path.dirname(path.resolve(source.file)));
  return { config, file: source.file, source };
}

function fail(source: ConfigSource, issues: ConfigIssue[]): never {
  const lines = issues.map((i) => source.format(i));
  const n = issues.length;
  throw new ConfigError(lines.join('\n'), `${n} problem${n === 1 ? '' : 's'} in ${source.file}; see the README's config reference`);
}

function readConfigText(file: string): string {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    throw new ConfigError(`${file}: no such file`, 'check the path of the config file');
  }
  if (stat.isDirectory()) throw new ConfigError(`${file}: is a directory, expected a YAML file`);
  try {
    return readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    throw new ConfigError(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'check its permissions');
  }
}

function applyOverrides(source: ConfigSource, overrides: ConfigOverrides): void {
  const flags: [string[], unknown, string][] = [];
  if (overrides.epochs !== undefined) flags.push([['training', 'epochs'], overrides.epochs, `--epochs ${overrides.epochs}`]);
  if (overrides.batchSize !== undefined) {
    flags.push([['training', 'batch_size'], overrides.batchSize, `--batch-size ${overrides.batchSize}`]);
  }
  if (overrides.seed !== undefined) flags.push([['seed'], overrides.seed, `--seed ${overrides.seed}`]);
  if (overrides.device !== undefined) flags.push([['device'], overrides.device, `--device ${overrides.device}`]);
  if (overrides.threads !== undefined) flags.push([['threads'], overrides.threads, `--threads ${overrides.threads}`]);
  for (const assignment of overrides.set ?? []) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) {
      throw new ConfigError(`--set ${assignment}: expected path.to.key=value`, 'for example --set training.optimizer.learning_rate=0.01');
    }
    const keyPath = assignment.slice(0, eq).split('.');
    if (keyPath.some((k) => k === '')) throw new ConfigError(`--set ${assignment}: empty key in "${assignment.slice(0, eq)}"`);
    let value: unknown;
    try {
      value = parseYamlValue(assignment.slice(eq + 1));
    } catch {
      value = assignment.slice(eq + 1);
    }
    flags.push([keyPath, value, `--set ${assignment}`]);
  }
  for (const [keyPath, value, flag] of flags) source.override({ path: keyPath, flag }, value);
}

function resolvePaths(config: Config, dir: string): void {
  const abs = (p: string) => path.resolve(dir, p);
  const data = config.data;
  if (data.format === 'image_folder') {
    data.path = abs(data.path);
  } else if (data.format !== 'idx') {
    for (const input of data.inputs ?? []) if (input.type === 'text' && input.embeddings) input.embeddings = abs(input.embeddings);
    if (data.path) data.path = abs(data.path);
    if (data.splits) {
      data.splits.train = abs(data.splits.train);
      if (data.splits.val) data.splits.val = abs(data.splits.val);
      if (data.splits.test) data.splits.test = abs(data.splits.test);
    }
  } else {
    const absTargets = (t: Record<string, string>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, abs(v)]));
    if (data.images) data.images = abs(data.images);
    data.targets = absTargets(data.targets);
    if (data.splits) {
      for (const split of [data.splits.train, data.splits.val, data.splits.test]) {
        if (!split) continue;
        split.images = abs(split.images);
        split.targets = absTargets(split.targets);
      }
    }
  }
  if (config.model.backbone.weights) config.model.backbone.weights = abs(config.model.backbone.weights);
}

/** The resolved config as YAML, as `mtl validate` prints it and run folders store it. */
export function configToYaml(config: Config): string {
  return stringify(config, { lineWidth: 0 });
}

/**
 * A hash of everything that shapes the training result. Where the run is written,
 * on which device and with how many threads do not count (a resume may change them).
 */
export function configHash(config: Config): string {
  const { device: _device, output: _output, threads: _threads, ...rest } = config;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex').slice(0, 16);
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
