/**
 * Rank 0's side of a data-parallel run: starts the worker threads with a copy of
 * the model and the training data in shared memory, and drives them epoch by epoch
 * and step by step. The main thread is a replica too (rank 0), so its model is
 * always the current one for validation and checkpoints.
 */
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BackendName } from '../../backends';
import type { Config } from '../../config/schema';
import type { Split } from '../../data/types';
import type { NamedTensor } from '../../outputs/checkpoint';
import type { Replica } from '../replica';
import { Collective, Command } from './collective';
import type { EpochMessage, SharedSplit, WorkerInit, WorkerReply } from './protocol';
import { DataParallelReducer, movingStatistics, reduceLength } from './reducer';

/**
 * Moves the split's arrays into shared memory, which every thread reads without a copy;
 * the split itself then reads from there too, so the data is held once, not per thread.
 */
function share(split: Split): SharedSplit {
  const copy = (values: Float32Array | Int32Array) => {
    const buffer = new SharedArrayBuffer(values.byteLength);
    new (values.constructor as Float32ArrayConstructor)(buffer).set(values as Float32Array);
    return buffer;
  };
  const shared: SharedSplit = {
    size: split.size,
    inputs: split.inputs.map((input) => ({ name: input.name, shape: input.shape, packed: input.packed, buffer: copy(input.values), augment: input.augment })),
    targets: Object.fromEntries(Object.entries(split.targets).map(([k, v]) => [k, { buffer: copy(v), kind: v instanceof Int32Array ? 'int32' : 'float32' }])),
  };
  shared.inputs.forEach((input, i) => (split.inputs[i].values = new Float32Array(input.buffer)));
  for (const [k, t] of Object.entries(shared.targets)) split.targets[k] = t.kind === 'int32' ? new Int32Array(t.buffer) : new Float32Array(t.buffer);
  return shared;
}

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
    const { threads, config, model, replica } = options;
    const statistics = movingStatistics(model);
    const length = reduceLength(replica.names.length, replica.step.lossTermCount, replica.step.trainable, statistics, replica.step.taskGradientLength);
    const buffer = Collective.allocate(threads, length);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const weightData = tf.io.CompositeArrayBuffer.join(artifacts!.weightData!);
    const optimizer = options.optimizerState?.map((s) => ({ name: s.name, shape: s.tensor.shape, dtype: s.tensor.dtype, values: s.tensor.dataSync() as Float32Array | Int32Array }));
    const train = share(options.train);
    const workers: Worker[] = [];
    const ready: Promise<void>[] = [];
    for (let rank = 1; rank < threads; rank++) {
      const init: WorkerInit = {
        rank,
        replicas: threads,
        backend: options.backend,
        config,
        collective: buffer,
        collectiveLength: length,
        model: { topology: artifacts!.modelTopology as object, weightSpecs: artifacts!.weightSpecs!, weightData },
        optimizer,
        train,
      };
      const worker = new Worker(path.join(__dirname, 'worker.js'), { workerData: init });
      workers.push(worker);
      ready.push(
        new Promise((resolve, reject) => {
          worker.once('message', (m: WorkerReply) => (m.type === 'ready' ? resolve() : reject(new Error(`training thread ${rank} failed to start: ${m.message}`))));
          worker.once('error', reject);
        }),
      );
      worker.on('message', (m: WorkerReply) => {
        if (m.type === 'error') process.stderr.write(`training thread ${rank} failed: ${m.message}\n`);
      });
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
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
