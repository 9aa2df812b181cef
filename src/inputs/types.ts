/**
 * Typed input features, as Ludwig has them: one class per column type that is fitted
 * on the train split, turns cells into numbers, keeps its fitted state in the
 * checkpoint (JSON), and builds its encoder. Adding a type: a file plus a line in
 * index.ts (and its options in config/schema.ts).
 */
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { Rng } from '../data/rng';

/** A cell that cannot be encoded; the caller adds the file and row. */
export class CellError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface FitContext {
  /** The data file the cells came from (image paths are relative to its folder). */
  file: string;
  /** Lines of the cells, for messages. */
  lines: number[];
}

export interface EncodeContext {
  /** The data file of the row (image paths are relative to its folder). */
  file: string;
  /**
   * A category never seen in training: an error (explicit val/test files, predict), or
   * counted and encoded as "unknown" (rows carved from the train file).
   */
  strictCategories: boolean;
  unseen: { count: number };
  /** Counts a fact worth one line of the log (`texts longer than ... were cut`). */
  tally?: (what: string) => void;
}

export interface EncoderContext {
  rng: Rng;
  /** The only input of the model: the configured backbone is its encoder (images: the ResNet). */
  alone: boolean;
}

/** A fit fed cell by cell (see InputType.fitter). */
export interface InputFitter<State> {
  add(cell: string, count?: number): void;
  /** A cell that is a regular number, as its value. */
  addValue?(value: number): void;
  /** Cells added so far. */
  readonly count: number;
  finish(): State;
}

/** One input's fitted state as saved in checkpoints. */
export interface InputSpec<State = unknown> {
  name: string;
  type: string;
  /** Shape of one sample of this input as the model takes it. */
  shape: number[];
  state: State;
}

export interface InputType<Options, State> {
  /** Whether the encoder is the identity on a flat vector (such inputs share one model input). */
  packed(state: State): boolean;
  /** A missing cell is an empty value (text: no tokens), never dropped or imputed. */
  readsMissingAsEmpty?: boolean;
  /** Fits on the train split's present cells (at least one). */
  fit(cells: string[], options: Options, context: FitContext): State;
  /** The same fit from the cells' values when they are numbers (a number column: no strings made): values[rows[i]], or every value without rows. */
  fitNumbers?(values: Float64Array, options: Options, rows?: ArrayLike<number>): State;
  /**
   * The same fit from cells that arrive in batches (streamed data, and columns read
   * as codes: `add(cell, count)` adds `count` copies of a cell). Without one, the cells are collected for fit.
   */
  fitter?(options: Options, context: FitContext): InputFitter<State>;
  shape(state: State): number[];
  /** The cell that stands for a missing one under `missing: impute`. */
  fill(state: State): string;
  /** Writes one present cell into `out` (prod(shape) values); throws CellError. */
  encode(cell: string, state: State, out: Float32Array, context: EncodeContext): void;
  /** encode for an input of one value whose cell is a regular number (finite, within range), given as its value: the encoded value. */
  encodeNumber?(value: number, state: State): number;
  /** Maps the model input to the vector this input contributes to the combiner. */
  encoder(input: SymbolicTensor, spec: InputSpec<State>, context: EncoderContext): SymbolicTensor;
}
