/**
 * What the data layer hands to training, eval and predict. Everything here is plain
 * typed arrays and JSON: no tensors, so it can be tested without an engine.
 */

/** One split (train, val or test) held in memory, already preprocessed. */
export interface Split {
  /** Number of samples. */
  size: number;
  /** Shape of one sample: [F] for tables, [H, W, C] for images. */
  featureShape: number[];
  /** Features, row-major: size * prod(featureShape) values. */
  features: Float32Array;
  /**
   * Per task: class indices (Int32Array, one per sample) for classification,
   * standardized values (Float32Array, size * K) for regression; a row without the
   * task's label holds UNLABELLED_CLASS or NaN (see labels.ts).
   */
  targets: Record<string, Int32Array | Float32Array>;
  /**
   * Where each sample came from, for messages and predictions: the 1-based line
   * number in the CSV file (the header is line 1), or the 0-based image index.
   */
  rows: Int32Array;
}

/** How one CSV feature column becomes model inputs; fitted on the train split. */
export type ColumnTransform =
  | {
      kind: 'numeric';
      name: string;
      /** Train-split mean and std (std 1 when standardization is off or the column is constant). */
      mean: number;
      std: number;
      /** Value used for missing cells when `missing: impute` (the train mean). */
      fill: number;
    }
  | {
      kind: 'categorical';
      name: string;
      /** One-hot order; values not in this list are an error. */
      categories: string[];
      /** Value used for missing cells when `missing: impute` (the train mode). */
      fill: string;
    };

/** How a task's target is encoded; fitted on the train split. */
export type TargetTransform =
  | { kind: 'classification'; column: string; classes: string[] }
  | {
      kind: 'regression';
      columns: string[];
      /** Per column; mean 0 and std 1 when `standardize_targets` is off. */
      mean: number[];
      std: number[];
    };

/** Everything needed to turn raw files into model inputs the same way training did. JSON-safe. */
export interface Preprocessing {
  kind: 'table' | 'image';
  /** Shape of one sample as the model sees it. */
  featureShape: number[];
  /** Tables: one entry per source column, in input order (categorical ones expand to one-hot). */
  columns?: ColumnTransform[];
  /** CSV reading settings, so eval and predict parse files as training did. */
  csv?: {
    /** The training file's format (absent in older checkpoints: csv). */
    format?: 'csv' | 'jsonl';
    delimiter: string;
    naValues: string[];
    missing: 'drop' | 'impute';
    /** Rows missing some task's label: masked out of that task (kept), or dropped. Absent in older checkpoints: drop. */
    missingTargets?: 'mask' | 'drop';
  };
  /** Images: pixels are scaled by `scale` (1/255). */
  image?: { height: number; width: number; channels: number; scale: number };
  /** Derived rotation target (IDX data with `rotation`), applied identically at eval time. */
  rotation?: { target: string; maxDegrees: number; seed: number };
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
