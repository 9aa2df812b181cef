/**
 * A worker thread of threaded inference: rebuilds the model from the main thread's
 * weights, then for each part it is sent scores its batches into the shared outputs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../../backends';
import { scoreBatches } from '../evaluate';
import { Collective } from './collective';
import type { InferenceWorkerInit, ScoreMessage } from './protocol';
import { loadTransferredModel, reportWorkerFailure, sharedSplitView } from './transfer';
import { freezeForInference } from '../../models/inference-fold';

async function start(init: InferenceWorkerInit): Promise<void> {
  await initBackend({ device: 'cpu', backend: init.backend });
  const model = await loadTransferredModel(init.model);
  freezeForInference(model);
  init.model.weightData = new ArrayBuffer(0);
  const collective = new Collective(init.collective, init.rank, init.threads, 0);
  parentPort!.on('message', (message: ScoreMessage) => {
    try {
      const outputs = message.outputs.map((buffer) => new Float32Array(buffer));
      scoreBatches(model, sharedSplitView(message.split), outputs, message.offset, init.rank, init.threads);
      collective.barrier();
    } catch (e) {
      reportWorkerFailure(e, collective);
    }
  });
  parentPort!.postMessage({ type: 'ready' });
}

start(workerData as InferenceWorkerInit).catch((e) => reportWorkerFailure(e));
