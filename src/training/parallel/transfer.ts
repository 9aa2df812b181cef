/**
 * What crosses from the main thread to worker threads, for training replicas and
 * inference alike: the model (saved once, rebuilt in each worker), splits in shared
 * memory, and the start-up handshake.
 */
import { parentPort, Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Split } from '../../data/types';
import { modelArtifacts } from '../../outputs/checkpoint';
import { type Collective, CollectiveAborted } from './collective';
import type { SharedSplit, WorkerReply } from './protocol';
import '../../models/layers';

/** A model as a worker rebuilds it: its topology and weights. */
export interface TransferredModel {
  topology: object;
  weightSpecs: unknown[];
  weightData: ArrayBuffer;
}

export async function transferModel(model: tfl.LayersModel): Promise<TransferredModel> {
  const { topology, weightSpecs, weights } = await modelArtifacts(model);
  return { topology, weightSpecs, weightData: weights.buffer as ArrayBuffer };
}

/** In the worker: the model again, with the same weights. */
export function loadTransferredModel(model: TransferredModel): Promise<tfl.LayersModel> {
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: model.topology, weightSpecs: model.weightSpecs as tf.io.WeightsManifestEntry[], weightData: model.weightData }));
}

/**
 * Moves the split's arrays (inputs, and targets unless `targets` is false) into shared
 * memory, which every thread reads without a copy; the split itself then reads from
 * there too, so the data is held once, not per thread. Arrays already shared stay.
 */
export function shareSplit(split: Split, targets = true): SharedSplit {
  const copy = (values: Float32Array | Int32Array) => {
    if (values.buffer instanceof SharedArrayBuffer && values.byteOffset === 0 && values.byteLength === values.buffer.byteLength) return values.buffer;
    const buffer = new SharedArrayBuffer(values.byteLength);
    new (values.constructor as Float32ArrayConstructor)(buffer).set(values as Float32Array);
    return buffer;
  };
  const shared: SharedSplit = {
    size: split.size,
    inputs: split.inputs.map((input) => ({ name: input.name, shape: input.shape, packed: input.packed, buffer: copy(input.values), augment: input.augment })),
    targets: targets ? Object.fromEntries(Object.entries(split.targets).map(([k, v]) => [k, { buffer: copy(v), kind: v instanceof Int32Array ? 'int32' : 'float32' }])) : {},
  };
  shared.inputs.forEach((input, i) => (split.inputs[i].values = new Float32Array(input.buffer)));
  for (const [k, t] of Object.entries(shared.targets)) split.targets[k] = t.kind === 'int32' ? new Int32Array(t.buffer) : new Float32Array(t.buffer);
  return shared;
}

/** In the worker: the shared split as a Split reading shared memory. */
export function sharedSplitView(shared: SharedSplit): Split {
  return {
    size: shared.size,
    inputs: shared.inputs.map((input) => ({ name: input.name, shape: input.shape, packed: input.packed, values: new Float32Array(input.buffer), augment: input.augment })),
    targets: Object.fromEntries(Object.entries(shared.targets).map(([k, t]) => [k, t.kind === 'int32' ? new Int32Array(t.buffer) : new Float32Array(t.buffer)])),
    rows: new Int32Array(0),
  };
}

/**
 * Starts one worker per init on `script` and resolves when every one has said it is
 * ready (terminating them all if one fails). Errors a worker reports later go to stderr.
 */
export async function startWorkers<Init extends { rank: number }>(script: string, inits: Init[], what: string): Promise<Worker[]> {
  const workers: Worker[] = [];
  const ready: Promise<void>[] = [];
  for (const init of inits) {
    const worker = new Worker(script, { workerData: init });
    workers.push(worker);
    ready.push(
      new Promise((resolve, reject) => {
        worker.once('message', (m: WorkerReply) => (m.type === 'ready' ? resolve() : reject(new Error(`${what} thread ${init.rank} failed to start: ${m.message}`))));
        worker.once('error', reject);
      }),
    );
    worker.on('message', (m: WorkerReply) => {
      if (m.type === 'error') process.stderr.write(`${what} thread ${init.rank} failed: ${m.message}\n`);
    });
  }
  try {
    await Promise.all(ready);
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  }
  return workers;
}

/** In a worker: tell the other threads and the main thread that this one failed (unless another failed first). */
export function reportWorkerFailure(e: unknown, collective?: Collective): void {
  if (e instanceof CollectiveAborted) return;
  collective?.abort();
  parentPort!.postMessage({ type: 'error', message: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) });
}
