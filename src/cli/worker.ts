/** `mtl worker --queue redis://host:port/db [--parallel N]`: trains the jobs of mtl sweep/compare --queue (src/executors/queue.ts). */
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import type { BackendName, Device } from '../backends';
import { ConfigError, InterruptedError } from '../errors';
import { startWorker } from '../executors/queue';
import { commonOptions, type Output } from './options';

export interface WorkerArgs {
  queue: string;
  parallel?: string;
  device?: Device;
  backend?: BackendName;
}

export function registerWorker(program: Command, out: Output): void {
  commonOptions(
    program
      .command('worker')
      .description('take training jobs of mtl sweep/compare --queue from a BullMQ queue and train them (run folders go where the job says: a shared filesystem)')
      .requiredOption('--queue <url>', 'Redis of the queue: redis://host:port/db')
      .option('--parallel <n>', `jobs at once, each in its own process (default: the ${availableParallelism()} cores of this machine)`),
  ).action(async (opts: WorkerArgs) => {
    const parallel = opts.parallel === undefined || opts.parallel === 'auto' ? availableParallelism() : Number(opts.parallel);
    if (!Number.isInteger(parallel) || parallel < 1) throw new ConfigError(`--parallel ${opts.parallel}: expected a whole number >= 1`);
    const lockMs = process.env.MTL_QUEUE_LOCK_MS ? Number(process.env.MTL_QUEUE_LOCK_MS) : undefined;
    const log = (m: string) => out.log(`${new Date().toISOString()} ${m}`);
    const worker = await startWorker({ queue: opts.queue, parallel, device: opts.device, backend: opts.backend, log, lockMs });
    log(`${worker.description}; Ctrl-C stops it (running jobs go back on the queue)`);
    let signalled: NodeJS.Signals | undefined;
    const handler = (signal: NodeJS.Signals) => {
      signalled = signal;
      log(`${signal}: stopping; running jobs write checkpoints/last and go back on the queue`);
      void worker.shutdown();
    };
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
    await worker.closed;
    if (signalled) throw new InterruptedError(`worker stopped by ${signalled}`, undefined, signalled);
  });
}
