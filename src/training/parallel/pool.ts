/**
 * Rank 0's side of a data-parallel run: starts the worker threads with a copy of
 * the model and the training data in shared memory, and drives them epoch by epoch
 * and step by step. The main thread is a replica too (rank 0), so its model is
 * always the current one for validation and checkpoints.
 */
import type { Worker } from 'node:worker_threads';
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BackendName } from '../../backends';
import type { Config } from '../../config/schema';
import type { Split } from '../../data/types';
import type { NamedTensor } from '../../outputs/checkpoint';
import type { Replica } from '../replica';
import { Collective, Command } from './collective';
import type { EpochMessage, WorkerInit } from './protocol';
import { collectiveLength, DataParallelReducer, movingStatistics, reduceLength } from './reducer';
import { shareSplit, startWorkers, transferModel } from './transfer';

export class ReplicaPool {
  private constructor(
    private readonly workers: Worker[],
    private readonly collective: Collective,
    readonly reducer: DataParallelReducer,
  ) {}

  get replicas(): number {
    return this.workers.length + 1;
  }

  static async start(options: {
    threads: number;
    backend: BackendName;
    config: Config;
    model: tfl.LayersModel;
    replica: Replica;
    train: Split;
    optimizerState?: NamedTensor[];
  }): Promise<ReplicaPool> {
    const { threads, config, replica } = options;
    const statistics = movingStatistics(options.model);
    const length = collectiveLength(reduceLength(replica.names.length, replica.step.lossTermCount, replica.step.trainable, statistics, replica.step.taskGradientLength));
    const buffer = Collective.allocate(threads, length);
    const model = await transferModel(options.model);
    const optimizer = options.optimizerState?.map((s) => ({ name: s.name, shape: s.tensor.shape, dtype: s.tensor.dtype, values: s.tensor.dataSync() as Float32Array | Int32Array }));
    const train = shareSplit(options.train);
    const inits = Array.from({ length: threads - 1 }, (_, i): WorkerInit => ({ rank: i + 1, replicas: threads, backend: options.backend, config, collective: buffer, collectiveLength: length, model, optimizer, train }));
    const workers = await startWorkers(path.join(__dirname, 'worker.js'), inits, 'training');
    const collective = new Collective(buffer, 0, threads, length);
    return new ReplicaPool(workers, collective, new DataParallelReducer(collective, statistics));
  }

  startEpoch(message: Omit<EpochMessage, 'type'>): void {
    for (const w of this.workers) w.postMessage({ type: 'epoch', ...message } satisfies EpochMessage);
  }

  /** Before each step of rank 0: the workers take theirs. */
  step(): void {
    this.collective.send(Command.step);
  }

  /** The epoch ends early (interruption): the workers stop waiting for steps. */
  stopEpoch(): void {
    this.collective.send(Command.stop);
  }

  async close(): Promise<void> {
    this.collective.abort();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
