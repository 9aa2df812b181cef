import type { Config } from '../../config/schema';
import type { BackendName } from '../../backends';
import type { ImageAugment } from '../../data/augment';
import type { TransferredModel } from './transfer';
import type { WasmMemory } from '../../backends/kernels/wasm/simd/webassembly';

/** A split's arrays in shared memory, readable by every thread without copies. */
export interface SharedSplit {
  size: number;
  inputs: { name: string; shape: number[]; packed: boolean; buffer: SharedArrayBuffer; augment?: ImageAugment }[];
  targets: Record<string, { buffer: SharedArrayBuffer; kind: 'int32' | 'float32' }>;
}

/** What a worker needs to become a replica of rank 0's model. */
export interface WorkerInit {
  rank: number;
  replicas: number;
  backend: BackendName;
  config: Config;
  /** The Collective's shared memory. */
  collective: WasmMemory;
  collectiveLength: number;
  model: TransferredModel;
  /** Optimizer slots when resuming, as plain arrays. */
  optimizer?: { name: string; shape: number[]; dtype: string; values: Float32Array | Int32Array }[];
  train: SharedSplit;
}

export interface EpochMessage {
  type: 'epoch';
  epoch: number;
  learningRate: number;
  weighting: object;
  /** Step to start from (resumed mid-epoch) and the global step count before it. */
  fromStep: number;
  globalStep: number;
  batchSize: number;
}

/** What an inference worker needs: the model, and where to wait for the others. */
export interface InferenceWorkerInit {
  rank: number;
  threads: number;
  backend: BackendName;
  /** The Collective's shared memory. */
  collective: WasmMemory;
  model: TransferredModel;
}

/** Score your batches of `split` into `outputs` (one per model output, rows from `offset`). */
export interface ScoreMessage {
  type: 'score';
  split: SharedSplit;
  outputs: SharedArrayBuffer[];
  offset: number;
}

export type WorkerReply = { type: 'ready' } | { type: 'error'; message: string };
