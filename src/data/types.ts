import type { InputSpec } from '../inputs/types';
import type { ImageAugment } from './augment';

/**
 * What the data layer hands to training, eval and predict. Everything here is plain
 * typed arrays and JSON: no tensors, so it can be tested without an engine.
 */

/** One split (train, val or test) held in memory, already preprocessed. */
export interface Split {
  /** Number of samples. */
  size: number;
  /** The inputs in the model's input order, each named. */
  inputs: SplitInput[];
  /**
   * Per task: class indices (Int32Array, one per sample; two with `class_weight`, see
   * labels.ts) for classification, standardized values (Float32Array, size * K) for
   * regression, label indicators (Float32Array, size * L: 0 absent, the label's
   * pos_weight, 1 without one, present) for multilabel; a row without the task's label
   * holds UNLABELLED_CLASS or NaN (see labels.ts).
   */
  targets: Record<string, Int32Array | Float32Array>;
  /**
   * Where each sample came from, for messages and predictions: the 1-based line
   * number in the CSV file (the header is line 1), or the 0-based image index.
   */
  rows: Int32Array;
  /**
   * A streamed split (data.streaming): its rows stay on disk and are read a chunk at a
   * time. `size` counts them; `inputs` give the shapes (no values); a val/test split's
   * `targets` and `rows` are filled by its first full pass (evaluate).
   */
  stream?: SplitStream;
}

/** How a streamed split is read. */
export interface SplitStream {
  /** Train: the batches of one epoch through the seeded shuffle buffer, from batch `fromStep` (earlier ones are read and dropped). */
  epoch?(epoch: number, batchSize: number, fromStep: number): { next(): Split | undefined };
  /** The rows in file order, a chunk at a time. */
  chunks(): Iterable<Split>;
  /** The first `n` rows in file order (the diagnostics' probe batch). */
  head(n: number): Split;
  /** Where the stream stands and how it shuffles, for checkpoints/last. */
  describe(): Record<string, unknown>;
}

/** One input of a split. */
export interface SplitInput {
  name: string;
  /** Shape of one sample ([1] a number, [K] one-hot, [H, W, C] an image). */
  shape: number[];
  /** Row-major: size * prod(shape) values. */
  values: Float32Array;
  /** A flat vector whose encoder is the identity: it may share a model input with its neighbours (see modelInputGroups). */
  packed: boolean;
  /** Train splits of image inputs with `augment`: applied to each batch, never stored. */
  augment?: ImageAugment;
}

/** How a task's target is encoded; fitted on the train split. */
export type TargetTransform =
  | {
      kind: 'classification';
      column: string;
      classes: string[];
      /** Per class, the loss weight of `class_weight` (resolved on the train split). */
      weights?: number[];
    }
  | {
      kind: 'multilabel';
      column: string;
      /** In output order. */
      labels: string[];
      /** Per label, the weight of its positive term (`pos_weight`, resolved on the train split). */
      posWeights?: number[];
    }
  | {
      kind: 'regression';
      columns: string[];
      /** Per column; mean 0 and std 1 when `standardize_targets` is off. */
      mean: number[];
      std: number[];
    };

/** Everything needed to turn raw files into model inputs the same way training did. JSON-safe. */
export interface Preprocessing {
  /** Where samples come from: table rows (CSV, JSONL) or an IDX images file. */
  kind: 'table' | 'image';
  /** The model's inputs in order, each with its type's fitted state (src/inputs/). */
  inputs: InputSpec[];
  /** CSV reading settings, so eval and predict parse files as training did. */
  csv?: {
    /** The training data's format. */
    format: 'csv' | 'jsonl' | 'parquet' | 'image_folder';
    delimiter: string;
    naValues: string[];
    missing: 'drop' | 'impute';
    /** Rows missing some task's label: masked out of that task (kept), or dropped. */
    missingTargets: 'mask' | 'drop';
  };
  /** Images: pixels are scaled by `scale` (1/255). */
  image?: { height: number; width: number; channels: number; scale: number };
  /** Derived rotation target, applied identically at eval time (tables: of the image input `input`). */
  rotation?: { target: string; maxDegrees: number; seed: number; input?: string };
  /** Task name -> target encoding. */
  targets: Record<string, TargetTransform>;
}

export interface LoadedData {
  train: Split;
  val: Split;
  test: Split;
  preprocessing: Preprocessing;
  /** Human-readable facts worth printing (rows dropped, values imputed, sizes). */
  notes: string[];
}

/** A row that could not be turned into model inputs (predict reports these). */
export interface UnscorableRow {
  row: number;
  reason: string;
}
