/**
 * Runs one training job in this process, wherever the executor put it. A job that finds
 * its own run folder (job.json with its key) continues from checkpoints/last: a trial
 * taken again after its worker died, or one of an interrupted sweep, loses nothing.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { trainCommand } from '../api/train';
import { InterruptedError, UserError } from '../errors';
import { writeFileAtomic } from '../outputs/atomic';
import { isCheckpointDir } from '../outputs/checkpoint';
import { RUN_FILES } from '../outputs/run-dir';
import type { StopSignal } from '../training/loop';
import { silentProgress, type ProgressReporter } from '../training/progress';
import type { JobEvents, TrainJob, TrainJobResult } from './types';

/** Written into the run folder when a job starts it; a job with the same key resumes it. */
export const JOB_FILE = 'job.json';
/** Everything the run's training printed (the executors keep stdout for their own lines). */
export const LOG_FILE = 'train.log';

export function workerName(): string {
  return `${hostname()}:${process.pid}`;
}

export async function runJob(job: TrainJob, stop: StopSignal, events: JobEvents = {}): Promise<TrainJobResult> {
  const started = Date.now();
  const worker = workerName();
  let resume: boolean;
  try {
    resume = prepareRunDir(job);
  } catch (e) {
    const u = e instanceof UserError ? e : undefined;
    return { id: job.id, worker, status: 'failed', error: u?.message ?? String((e as Error)?.message ?? e), hint: u?.hint, exitCode: u?.exitCode ?? 1, seconds: 0 };
  }
  const logFile = path.join(job.runDir, LOG_FILE);
  const log = (m: string) => appendFileSync(logFile, `${m}\n`);
  let epoch = 0;
  let paused = false;
  const progress: ProgressReporter = {
    ...silentProgress,
    startEpoch: (e) => (epoch = e),
    endEpoch: (line) => {
      log(line);
      events.epoch?.(job.id, epoch);
      if (job.stopAfterEpoch !== undefined && epoch >= job.stopAfterEpoch) paused = true;
    },
    log,
  };
  const signal: StopSignal = {
    get requested() {
      return paused || stop.requested;
    },
    set requested(v: boolean) {
      stop.requested = v;
    },
  };
  events.started?.(job.id, worker);
  log(`${new Date().toISOString()} ${worker}: ${resume ? 'resuming' : 'starting'} ${job.id}${job.stopAfterEpoch !== undefined ? ` (until epoch ${job.stopAfterEpoch})` : ''}`);
  const base = { id: job.id, worker };
  try {
    const common = { taskMonitors: job.taskMonitors, device: job.device, backend: job.backend };
    const summary = await trainCommand(resume ? { resume: job.runDir, ...common } : { resolvedConfig: job.config, out: job.runDir, ...common }, { log }, progress, signal);
    return { ...base, status: 'finished', summary, history: readHistory(job.runDir), seconds: (Date.now() - started) / 1000 };
  } catch (e) {
    const seconds = (Date.now() - started) / 1000;
    if (e instanceof InterruptedError) return { ...base, status: paused ? 'paused' : 'interrupted', history: readHistory(job.runDir), seconds };
    if (e instanceof UserError) {
      log(`error: ${e.message}${e.hint ? `\nhint: ${e.hint}` : ''}`);
      return { ...base, status: 'failed', error: e.message, hint: e.hint, exitCode: e.exitCode, history: readHistory(job.runDir), seconds };
    }
    const error = (e as Error)?.stack ?? String(e);
    log(`internal error: ${error}`);
    return { ...base, status: 'failed', error: `internal error: ${(e as Error)?.message ?? String(e)}`, exitCode: 1, history: readHistory(job.runDir), seconds };
  }
}

/**
 * true: the folder holds this job's own run with a checkpoints/last, continue it.
 * Otherwise the folder is made empty (a run folder of an earlier comparison is
 * replaced, as compare always did) and marked with the job's key.
 */
function prepareRunDir(job: TrainJob): boolean {
  const dir = job.runDir;
  if (existsSync(dir)) {
    const mine = readJobKey(dir) === job.key;
    if (mine && isCheckpointDir(path.join(dir, 'checkpoints', 'last')) && existsSync(path.join(dir, RUN_FILES.config))) return true;
    const entries = readdirSync(dir);
    const runLike = entries.length === 0 || entries.some((e) => e === RUN_FILES.config || e === RUN_FILES.meta || e === JOB_FILE || e === 'checkpoints');
    if (!runLike) throw new UserError(`${dir}: exists and is not a run folder`, { exitCode: 2, hint: 'choose another --out folder' });
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, JOB_FILE), `${JSON.stringify({ key: job.key, id: job.id, created_at: new Date().toISOString() }, null, 2)}\n`);
  return false;
}

function readJobKey(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(dir, JOB_FILE), 'utf8')) as { key?: string }).key;
  } catch {
    return undefined;
  }
}

/** metrics.jsonl as rows (null where a value was not finite). */
export function readHistory(runDir: string): Record<string, number | null>[] {
  try {
    return readFileSync(path.join(runDir, RUN_FILES.metricsJsonl), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, number | null>);
  } catch {
    return [];
  }
}
