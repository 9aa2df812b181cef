/**
 * A run folder: <output.dir>/<name>/<timestamp>/ holding config.yaml, meta.json,
 * metrics.csv, metrics.jsonl, checkpoints/{best,last}/ and summary.json.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors';
import { writeFileAtomic } from './atomic';
import { isCheckpointDir } from './checkpoint';

export const RUN_FILES = {
  config: 'config.yaml',
  meta: 'meta.json',
  metricsCsv: 'metrics.csv',
  metricsJsonl: 'metrics.jsonl',
  summary: 'summary.json',
} as const;

export type CheckpointName = 'best' | 'last';

export class RunDir {
  constructor(readonly path: string) {}

  /** A new folder for a run; `explicit` (from --out) wins over <dir>/<name>/<timestamp>. */
  static create(outputDir: string, name: string, explicit?: string, now = new Date()): RunDir {
    let dir = explicit ? path.resolve(explicit) : path.resolve(outputDir, name, timestamp(now));
    if (!explicit) {
      for (let i = 2; existsSync(dir); i++) dir = path.resolve(outputDir, name, `${timestamp(now)}-${i}`);
    }
    try {
      mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
    } catch (e) {
      throw new UserError(`cannot create the run folder ${dir}: ${(e as NodeJS.ErrnoException).code}`, {
        hint: 'choose another --out or output.dir',
      });
    }
    return new RunDir(dir);
  }

  file(name: string): string {
    return path.join(this.path, name);
  }

  checkpoint(name: CheckpointName): string {
    return path.join(this.path, 'checkpoints', name);
  }

  writeText(name: string, text: string): void {
    writeFileAtomic(this.file(name), text);
  }

  writeJson(name: string, value: unknown): void {
    this.writeText(name, `${JSON.stringify(value, null, 2)}\n`);
  }

  readJson<T>(name: string): T {
    return JSON.parse(readFileSync(this.file(name), 'utf8')) as T;
  }

  exists(name: string): boolean {
    return existsSync(this.file(name));
  }
}

/** 2026-11-25T10-15-30 (local time, sortable, safe in file names). */
function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

/**
 * Finds the checkpoint a user means: a checkpoint folder itself, or a run folder
 * (its checkpoints/best, else checkpoints/last).
 */
export function resolveCheckpoint(location: string): { checkpoint: string; run?: RunDir } {
  const abs = path.resolve(location);
  if (!existsSync(abs)) throw new UserError(`${location}: no such run or checkpoint folder`, { hint: 'pass a folder written by mtl train' });
  if (isCheckpointDir(abs)) {
    const maybeRun = path.resolve(abs, '..', '..');
    return { checkpoint: abs, run: existsSync(path.join(maybeRun, RUN_FILES.config)) ? new RunDir(maybeRun) : undefined };
  }
  for (const name of ['best', 'last'] as const) {
    const dir = path.join(abs, 'checkpoints', name);
    if (isCheckpointDir(dir)) return { checkpoint: dir, run: new RunDir(abs) };
  }
  throw new UserError(`${location}: holds no checkpoint (no model.json, no checkpoints/best or checkpoints/last)`, {
    hint: 'pass a run folder written by mtl train, or one of its checkpoints/ folders',
  });
}
