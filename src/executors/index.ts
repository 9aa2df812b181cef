/** Picks the executor from the command line: `--queue URL` (BullMQ), `--parallel N|auto` (local processes), or this process. */
import type { Config } from '../config/schema';
import { ConfigError } from '../errors';
import { InProcessExecutor, LocalPool, resolveParallel } from './local';
import { QueueExecutor } from './queue';
import type { Executor } from './types';

export interface ExecutorChoice {
  /** `auto` (the default of mtl sweep) or a number; 1 runs in this process. */
  parallel?: string | number;
  queue?: string;
  /** The configs the jobs will train, to size `auto` by their threads. */
  configs: Config[];
  jobs: number;
  log: (m: string) => void;
}

export async function createExecutor(choice: ExecutorChoice): Promise<Executor> {
  if (choice.queue) {
    if (choice.parallel !== undefined && choice.parallel !== 'auto') {
      throw new ConfigError('--parallel and --queue exclude each other: with a queue, the workers decide', 'give --parallel N to each mtl worker --queue ... instead');
    }
    return QueueExecutor.open(choice.queue, choice.log);
  }
  const n = resolveParallel(choice.parallel, choice.configs, choice.jobs);
  return n === 1 ? new InProcessExecutor() : new LocalPool(n);
}

export type { Executor, TrainJob, TrainJobResult } from './types';
