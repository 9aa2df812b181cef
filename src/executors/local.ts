/**
 * Executors on this machine: in this process, one job after another (what `mtl compare`
 * always did), or in N worker processes (`--parallel N`), each training one job at a time.
 * Nothing to install or start.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism, hostname } from 'node:os';
import path from 'node:path';
import type { Config } from '../config/schema';
import { ConfigError } from '../errors';
import type { StopSignal } from '../training/loop';
import { configuredThreads } from '../training/threads';
import { runJob } from './run-job';
import { decodeResult, encodeResult, type Executor, type JobEvents, type TrainJob, type TrainJobResult } from './types';

export class InProcessExecutor implements Executor {
  readonly kind = 'in-process' as const;
  readonly slots = 1;
  readonly description = 'in this process, one run after another';
  private readonly stop: StopSignal = { requested: false };
  private chain: Promise<unknown> = Promise.resolve();

  run(job: TrainJob, events?: JobEvents): Promise<TrainJobResult> {
    const next = this.chain.then(() => (this.stop.requested ? notStarted(job) : runJob(job, this.stop, events)));
    this.chain = next.catch(() => undefined);
    return next;
  }

  interrupt(): void {
    this.stop.requested = true;
  }

  async close(): Promise<void> {
    await this.chain;
  }
}

interface Child {
  process: ChildProcess;
  ready: boolean;
  job?: { job: TrainJob; events?: JobEvents; resolve: (r: TrainJobResult) => void };
}

/** N worker processes (forked from this one's code); a job waits for a free one. */
export class LocalPool implements Executor {
  readonly kind = 'local' as const;
  readonly description: string;
  private readonly children: Child[] = [];
  private readonly waiting: { job: TrainJob; events?: JobEvents; resolve: (r: TrainJobResult) => void }[] = [];
  private interrupted = false;
  private closed = false;

  constructor(
    readonly slots: number,
    private readonly entry = path.join(__dirname, 'child.js'),
  ) {
    this.description = `${slots} local worker process${slots === 1 ? '' : 'es'}`;
  }

  run(job: TrainJob, events?: JobEvents): Promise<TrainJobResult> {
    if (this.interrupted || this.closed) return Promise.resolve(notStarted(job));
    return new Promise((resolve) => {
      this.waiting.push({ job, events, resolve });
      this.pump();
    });
  }

  private pump(): void {
    while (this.waiting.length > 0 && !this.interrupted) {
      let child = this.children.find((c) => c.ready && !c.job);
      if (!child) {
        if (this.children.length >= this.slots) return;
        this.spawn();
        // It takes the job once it says it is ready.
        return;
      }
      const next = this.waiting.shift()!;
      child.job = next;
      child.process.send({ type: 'job', job: encodeResult(next.job) });
      next.events?.started?.(next.job.id, `${hostname()}:${child.process.pid}`);
      child = undefined;
    }
  }

  private spawn(): void {
    // Test-runner flags must not reach the workers (they would run as tests).
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--test'));
    const proc = fork(this.entry, [], { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const child: Child = { process: proc, ready: false };
    this.children.push(child);
    proc.on('message', (m: { type: string; id?: string; epoch?: number; result?: string }) => {
      if (m.type === 'ready') {
        child.ready = true;
        this.pump();
      } else if (m.type === 'epoch' && child.job) {
        child.job.events?.epoch?.(m.id!, m.epoch!);
      } else if (m.type === 'result' && child.job) {
        const { resolve } = child.job;
        child.job = undefined;
        resolve(decodeResult<TrainJobResult>(m.result!));
        this.pump();
      }
    });
    proc.on('exit', (code, signal) => {
      this.children.splice(this.children.indexOf(child), 1);
      if (child.job) {
        const { job, resolve } = child.job;
        child.job = undefined;
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        resolve({ id: job.id, worker: `${hostname()}:${proc.pid}`, status: this.interrupted ? 'interrupted' : 'failed', error: `the worker process ${how} while training ${job.id}`, exitCode: 1, seconds: 0 });
      }
      if (!this.closed) this.pump();
    });
  }

  interrupt(): void {
    this.interrupted = true;
    for (const w of this.waiting.splice(0)) w.resolve(notStarted(w.job));
    for (const c of this.children) if (c.job) c.process.send({ type: 'interrupt' });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.resolve(notStarted(w.job));
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.process.exitCode !== null || c.process.signalCode !== null) return resolve();
            c.process.once('exit', () => resolve());
            if (c.process.connected) c.process.disconnect();
            else c.process.kill('SIGKILL');
          }),
      ),
    );
  }
}

/** A job that never started: an interrupted sweep keeps it for --resume. */
export function notStarted(job: TrainJob): TrainJobResult {
  return { id: job.id, worker: '', status: 'interrupted', seconds: 0 };
}

/** `--parallel auto|N`: auto fills the cores with runs of the configs' thread count. */
export function resolveParallel(value: string | number | undefined, configs: Config[], jobs = Infinity): number {
  const cores = availableParallelism();
  if (value === undefined || value === 'auto') {
    const threads = Math.max(1, ...configs.map(configuredThreads));
    return Math.max(1, Math.min(Math.floor(cores / threads), jobs));
  }
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--parallel ${value}: expected a whole number >= 1 or auto`, `this machine has ${cores} cores`);
  return n;
}
