/**
 * Executors run training jobs (one run folder each) somewhere: in this process, in
 * worker processes on this machine, or on a BullMQ queue served by `mtl worker`s.
 * `mtl sweep` and `mtl compare` hand them the same jobs and get the same results back,
 * whatever the executor: a job is its resolved config, its run folder and where to stop.
 */
import type { BackendName, Device } from '../backends';
import type { Config } from '../config/schema';
import type { TrainSummary } from '../api/train';

export interface TrainJob {
  /** Unique within its sweep or comparison (`trial-003`, `stl-species-seed42`). */
  id: string;
  /**
   * Identifies the job across retries: a run folder whose job.json carries the same key is
   * this job's own and is resumed; any other is replaced. `<sweep id>/<trial>` for sweeps.
   */
  key: string;
  /** Absolute path of the run folder; with a queue it must be a path every worker sees. */
  runDir: string;
  /** The trial's resolved config (as trainCommand's resolvedConfig). */
  config: Config;
  /** Stop (as after Ctrl-C, checkpoints/last written) once this epoch has ended: successive halving's rungs. */
  stopAfterEpoch?: number;
  taskMonitors?: Record<string, { key: string; mode: 'min' | 'max' }>;
  device?: Device;
  backend?: BackendName;
}

export type JobStatus = 'finished' | 'paused' | 'failed' | 'interrupted';

export interface TrainJobResult {
  id: string;
  /**
   * finished: trained to the end (or early stopping); paused: stopped at stopAfterEpoch;
   * failed: a config or data error, a diverged run, a crash (`error` says which);
   * interrupted: stopped by a signal, resumable from checkpoints/last.
   */
  status: JobStatus;
  /** With finished: trainCommand's summary, testRows included. */
  summary?: TrainSummary;
  /** metrics.jsonl of the run so far (one row per epoch). */
  history?: Record<string, number | null>[];
  error?: string;
  hint?: string;
  exitCode?: number;
  /** Where it ran: host and process id, for the log. */
  worker: string;
  seconds: number;
}

/** Progress of a running job (local executors report every epoch). */
export interface JobEvents {
  epoch?(id: string, epoch: number): void;
  started?(id: string, worker: string): void;
}

export interface Executor {
  /** What it is, for the log and sweep.json: `in-process`, `2 local worker processes`, `queue redis://...`. */
  readonly description: string;
  readonly kind: 'in-process' | 'local' | 'queue';
  /** Jobs it runs at once (the queue: as many as its workers take). */
  readonly slots: number;
  run(job: TrainJob, events?: JobEvents): Promise<TrainJobResult>;
  /** Ask running jobs to stop at the end of their step (they come back `interrupted`). */
  interrupt(): void;
  close(): Promise<void>;
}

/**
 * JSON that keeps NaN and ±Infinity (metrics of a task without labels are NaN): results
 * cross process and network boundaries as text, and must come back as they left.
 */
export function encodeResult(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? { $number: String(v) } : v));
}

export function decodeResult<T>(text: string): T {
  return JSON.parse(text, (_k, v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof v.$number === 'string' ? Number(v.$number) : v)) as T;
}
