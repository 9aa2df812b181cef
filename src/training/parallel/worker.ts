/**
 * A worker thread of a data-parallel run: rebuilds the model from rank 0's weights,
 * then, epoch by epoch, takes its shard of every batch when rank 0 says "step".
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../backends';
import { epochOrder } from '../../data/batches';
import type { Split } from '../../data/types';
import { createReplica, replicaStep, type Replica } from '../replica';
import { Collective, Command } from './collective';
import type { EpochMessage, WorkerInit } from './protocol';
import { DataParallelReducer, movingStatistics } from './reducer';
import { loadTransferredModel, reportWorkerFailure, sharedSplitView } from './transfer';

async function start(init: WorkerInit): Promise<void> {
  await initBackend({ device: 'cpu', backend: init.backend });
  const model = await loadTransferredModel(init.model);
  const replica = createReplica(init.config, model, true);
  if (init.optimizer) {
    const slots = init.optimizer.map((s) => ({ name: s.name, tensor: tf.tensor(s.values, s.shape, s.dtype as 'float32') }));
    await replica.optimizer.setState(slots);
    tf.dispose(slots.map((s) => s.tensor));
  }
  // The closures below keep `init` for the whole run: let the weight and optimizer copies go.
  init.model.weightData = new ArrayBuffer(0);
  init.optimizer = undefined;
  const collective = new Collective(init.collective, init.rank, init.replicas, init.collectiveLength);
  const reducer = new DataParallelReducer(collective, movingStatistics(model));
  const train = sharedSplitView(init.train);
  parentPort!.on('message', (message: EpochMessage) => {
    try {
      runEpoch(message, replica, collective, reducer, train, init);
    } catch (e) {
      reportWorkerFailure(e, collective);
    }
  });
  parentPort!.postMessage({ type: 'ready' });
}

function runEpoch(message: EpochMessage, replica: Replica, collective: Collective, reducer: DataParallelReducer, train: Split, init: WorkerInit): void {
  replica.optimizer.setLearningRate(message.learningRate);
  replica.weighting.setState(message.weighting);
  const order = epochOrder(train.size, init.config.seed, message.epoch);
  const batchSize = message.batchSize;
  const steps = Math.ceil(train.size / batchSize);
  let globalStep = message.globalStep;
  for (let s = message.fromStep; s < steps; s++) {
    if (collective.receive() === Command.stop) return;
    globalStep++;
    replicaStep(replica, {
      split: train,
      order,
      start: s * batchSize,
      end: Math.min(train.size, (s + 1) * batchSize),
      globalStep,
      seed: init.config.seed,
      skipNonFinite: init.config.training.on_nan === 'skip_batch',
      rank: init.rank,
      replicas: init.replicas,
      reducer,
    });
  }
}

start(workerData as WorkerInit).catch((e) => reportWorkerFailure(e));
