/**
 * Inference on several threads (eval, predict): each worker holds a copy of the model
 * and scores whole batches of the rows, read from shared memory, writing its outputs
 * into shared output arrays in row order. Each batch is the one a single thread would
 * score, so the results are bit-identical to one thread's. The main thread is rank 0:
 * it scores its own batches meanwhile, then waits for the others.
 */
import type { Worker } from 'node:worker_threads';
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BackendName } from '../../backends';
import type { Split } from '../../data/types';
import { Collective } from './collective';
import type { InferenceWorkerInit, ScoreMessage } from './protocol';
import { shareSplit, startWorkers, transferModel } from './transfer';

export class InferencePool {
  private constructor(
    private readonly workers: Worker[],
    private readonly collective: Collective,
  ) {}

  /** Threads scoring, the main thread included. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /** A pool of `threads` (the main thread one of them); undefined for one thread. */
  static async start(threads: number, backend: BackendName, model: tfl.LayersModel): Promise<InferencePool | undefined> {
    if (threads <= 1) return undefined;
    const collective = Collective.allocate(threads, 0);
    const transferred = await transferModel(model);
    const inits = Array.from({ length: threads - 1 }, (_, i): InferenceWorkerInit => ({ rank: i + 1, threads, backend, collective, model: transferred }));
    const workers = await startWorkers(path.join(__dirname, 'inference-worker.js'), inits, 'inference');
    return new InferencePool(workers, new Collective(collective, 0, threads, 0));
  }

  /**
   * The workers start on their batches of `part` (rank r takes batches r, r + threads, ...),
   * writing into `outputs` (shared memory, one array per model output) from row `offset`.
   * The part's inputs move to shared memory (once: a part already there stays).
   */
  dispatch(part: Split, outputs: Float32Array[], offset: number): void {
    const message: ScoreMessage = { type: 'score', split: shareSplit(part, false), outputs: outputs.map((o) => o.buffer as SharedArrayBuffer), offset };
    for (const w of this.workers) w.postMessage(message);
  }

  /** Rank 0, after its own batches: returns once every worker has written its outputs. */
  wait(): void {
    this.collective.barrier();
  }

  async close(): Promise<void> {
    this.collective.abort();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
