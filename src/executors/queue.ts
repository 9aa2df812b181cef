/**
 * The distributed executor: jobs on a BullMQ queue in Redis (`--queue redis://host:port/db`),
 * taken by `mtl worker`s on any number of machines. Run folders are written where the
 * job says (a path every worker sees: a shared filesystem); the result comes back as the
 * job's return value. Faults:
 * - a worker killed mid-job: its lock expires, BullMQ's stalled-job check puts the job
 *   back, another worker takes it and continues from checkpoints/last (job.json matches);
 * - Redis restarting: ioredis reconnects (workers and producer); the producer polls job
 *   states, so no completion event can be missed, and puts back a job Redis lost;
 * - a failing job (bad config value, diverged run) completes with status `failed` and its
 *   error: it is recorded once and never retried;
 * - an unreachable Redis is an error within seconds, not a hang.
 */
import { Job, Queue, WaitingError, Worker } from 'bullmq';
import IORedis, { type RedisOptions } from 'ioredis';
import { ConfigError, UserError } from '../errors';
import type { BackendName, Device } from '../backends';
import { LocalPool, notStarted } from './local';
import { workerName } from './run-job';
import { decodeResult, encodeResult, type Executor, type JobEvents, type TrainJob, type TrainJobResult } from './types';

export const QUEUE_NAME = 'mtl-trials';

/** The job's data on the queue: the TrainJob as text that keeps NaN. */
interface QueuedJob {
  job: string;
}

interface JobProgress {
  worker?: string;
  epoch?: number;
}

/** redis://[user:password@]host:port[/db]; the password never appears in messages or files. */
export function parseQueueUrl(url: string): { url: string; display: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`--queue ${url}: not a URL`, 'expected redis://host:port/db, e.g. redis://127.0.0.1:6379/0');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError(`--queue ${url}: expected a redis:// or rediss:// URL, got ${parsed.protocol.replace(/:$/, '')}://`, 'for example redis://127.0.0.1:6379/0');
  }
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new ConfigError(`--queue ${url}: the database must be a number, got "${db}"`, 'for example redis://127.0.0.1:6379/0');
  const display = `${parsed.protocol}//${parsed.hostname}:${parsed.port || 6379}/${db || 0}`;
  return { url, display };
}

/** Checks within seconds that Redis answers, then opens a connection that reconnects for ever. */
export async function connectRedis(url: string, log: (m: string) => void = () => undefined): Promise<IORedis> {
  const { display } = parseQueueUrl(url);
  const probe = new IORedis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let cause: Error | undefined;
  probe.on('error', (e: Error) => (cause ??= e));
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    // ioredis rejects with "Connection is closed"; the socket's own error says why.
    throw new UserError(`cannot reach Redis at ${display}: ${(cause ?? (e as Error)).message}`, {
      hint: 'start redis-server there (or check host, port and database of --queue); workers and the sweep must reach the same Redis',
    });
  } finally {
    probe.disconnect();
  }
  const options: RedisOptions = { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(times * 250, 2000) };
  const connection = new IORedis(url, options);
  let lost = false;
  connection.on('error', (e: Error) => {
    if (!lost) log(`lost the connection to Redis at ${display} (${e.message}); reconnecting`);
    lost = true;
  });
  connection.on('ready', () => {
    if (lost) log(`reconnected to Redis at ${display}`);
    lost = false;
  });
  return connection;
}

/** BullMQ ids may not contain ':' (nor be integers). */
export function queueJobId(job: TrainJob): string {
  return `${job.key}@${job.stopAfterEpoch ?? 'end'}`.replace(/[^A-Za-z0-9_.@-]/g, '_');
}

/** The producer side: `mtl sweep --queue` and `mtl compare --queue`. */
export class QueueExecutor implements Executor {
  readonly kind = 'queue' as const;
  readonly slots = Number.POSITIVE_INFINITY;
  readonly description: string;
  private interrupted = false;
  private readonly pending = new Set<string>();

  private constructor(
    private readonly queue: Queue,
    private readonly connection: IORedis,
    display: string,
    private readonly log: (m: string) => void,
    private readonly pollMs: number,
  ) {
    this.description = `the BullMQ queue ${QUEUE_NAME} at ${display} (mtl worker --queue ${display})`;
  }

  static async open(url: string, log: (m: string) => void = () => undefined, pollMs = 250): Promise<QueueExecutor> {
    const { display } = parseQueueUrl(url);
    const connection = await connectRedis(url, log);
    const queue = new Queue(QUEUE_NAME, { connection });
    queue.on('error', () => undefined);
    return new QueueExecutor(queue, connection, display, log, pollMs);
  }

  async run(job: TrainJob, events: JobEvents = {}): Promise<TrainJobResult> {
    if (this.interrupted) return notStarted(job);
    const jobId = queueJobId(job);
    this.pending.add(jobId);
    try {
      return await this.await(job, jobId, events);
    } finally {
      this.pending.delete(jobId);
    }
  }

  private async add(job: TrainJob, jobId: string): Promise<void> {
    const data: QueuedJob = { job: encodeResult(job) };
    await this.queue.add('train', data, { jobId, attempts: 1, removeOnComplete: false, removeOnFail: false });
  }

  private async await(job: TrainJob, jobId: string, events: JobEvents): Promise<TrainJobResult> {
    let existing = await Job.fromId<QueuedJob, string>(this.queue, jobId);
    // A job BullMQ failed (not one that completed with status failed: those are kept)
    // was stalled too often or crashed its worker; a new run of the sweep tries again.
    if (existing && existing.finishedOn && (await existing.getState()) === 'failed') {
      await existing.remove();
      existing = undefined;
    }
    if (!existing) await this.add(job, jobId);
    let startedBy: string | undefined;
    let lastEpoch = 0;
    for (;;) {
      if (this.interrupted) return notStarted(job);
      let current: Job<QueuedJob, string> | undefined;
      try {
        current = await Job.fromId<QueuedJob, string>(this.queue, jobId);
        if (!current) {
          // Redis lost it (restarted without persistence): put it back; the run folder resumes.
          this.log(`${job.id}: the queue lost this job; adding it again`);
          await this.add(job, jobId);
          continue;
        }
        const progress = (typeof current.progress === 'object' ? current.progress : {}) as JobProgress;
        if (progress.worker && progress.worker !== startedBy) {
          startedBy = progress.worker;
          events.started?.(job.id, progress.worker);
        }
        if (typeof progress.epoch === 'number' && progress.epoch > lastEpoch) {
          for (let e = lastEpoch + 1; e <= progress.epoch; e++) events.epoch?.(job.id, e);
          lastEpoch = progress.epoch;
        }
        if (current.finishedOn) {
          const state = await current.getState();
          if (state === 'completed' && typeof current.returnvalue === 'string') return decodeResult<TrainJobResult>(current.returnvalue);
          if (state === 'failed') {
            return { id: job.id, worker: startedBy ?? '', status: 'failed', error: `the queue gave up on this job: ${current.failedReason}`, exitCode: 1, seconds: 0 };
          }
        }
      } catch {
        // Redis is away; ioredis reconnects and the next poll asks again.
      }
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  /** Stops waiting; jobs no worker has taken yet are taken off the queue, running ones finish (their results wait for --resume). */
  interrupt(): void {
    this.interrupted = true;
    for (const id of this.pending) {
      void Job.fromId(this.queue, id)
        .then(async (j) => {
          if (j && (await j.getState()) === 'waiting') await j.remove();
        })
        .catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    this.connection.disconnect();
  }
}

export interface WorkerOptions {
  queue: string;
  parallel: number;
  device?: Device;
  backend?: BackendName;
  log: (m: string) => void;
  /** BullMQ's lock on a running job (renewed every half of it); a dead worker's job is taken again after about this long. */
  lockMs?: number;
}

export interface RunningWorker {
  description: string;
  /** Stop taking jobs; running ones stop at the end of their step, write checkpoints/last and go back on the queue. */
  shutdown(): Promise<void>;
  /** Resolves when the worker has shut down. */
  closed: Promise<void>;
}

/** `mtl worker --queue URL --parallel N`: takes jobs and trains each in one of N local worker processes. */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { display } = parseQueueUrl(options.queue);
  const connection = await connectRedis(options.queue, options.log);
  const pool = new LocalPool(options.parallel);
  const lockDuration = options.lockMs ?? 30000;
  const name = workerName();
  const worker = new Worker<QueuedJob, string>(
    QUEUE_NAME,
    async (bullJob, token) => {
      const job = decodeResult<TrainJob>(bullJob.data.job);
      if (options.device) job.device = options.device;
      if (options.backend) job.backend = options.backend;
      const report = (p: JobProgress) => void bullJob.updateProgress(p as object).catch(() => undefined);
      let worker = name;
      const result = await pool.run(job, {
        started: (_id, w) => {
          worker = w;
          report({ worker: w, epoch: 0 });
          options.log(`${job.id}: started in ${w}${job.stopAfterEpoch !== undefined ? ` (until epoch ${job.stopAfterEpoch})` : ''} -> ${job.runDir}`);
        },
        epoch: (_id, epoch) => report({ worker, epoch }),
      });
      if (result.status === 'interrupted') {
        // Shutting down: hand the job back at once instead of waiting for its lock to expire.
        options.log(`${job.id}: interrupted; back on the queue (it continues from checkpoints/last)`);
        await bullJob.moveToWait(token);
        throw new WaitingError();
      }
      options.log(`${job.id}: ${result.status}${result.error ? ` (${result.error})` : ''} in ${result.seconds.toFixed(1)}s`);
      return encodeResult(result);
    },
    { connection, concurrency: options.parallel, lockDuration, stalledInterval: Math.max(500, Math.floor(lockDuration / 2)), maxStalledCount: 3 },
  );
  worker.on('error', () => undefined);
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let shuttingDown: Promise<void> | undefined;
  const shutdown = () =>
    (shuttingDown ??= (async () => {
      pool.interrupt();
      await worker.close().catch(() => undefined);
      await pool.close();
      connection.disconnect();
      resolveClosed();
    })());
  await worker.waitUntilReady();
  return { description: `worker ${name}: ${options.parallel} process${options.parallel === 1 ? '' : 'es'} on the BullMQ queue ${QUEUE_NAME} at ${display}`, shutdown, closed };
}
