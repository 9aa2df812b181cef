/** Seeded, deterministic assignment of rows to train / val / test. */
import { DataError } from '../errors';
import { deriveSeed, permutation } from './rng';

export interface SplitIndices {
  train: number[];
  val: number[];
  test: number[];
}

export interface Fractions {
  train: number;
  val: number;
  test: number;
}

const SPLIT_STREAM = 0x53504c;

/**
 * Shuffles 0..n-1 with the seed, then cuts it: val and test get round(n * fraction)
 * rows, train the rest. Each part keeps source order, so files read naturally.
 */
export function splitIndices(n: number, fractions: Fractions, seed: number, what: string): SplitIndices {
  const total = fractions.train + fractions.val + fractions.test;
  const nVal = Math.round((n * fractions.val) / total);
  const nTest = Math.round((n * fractions.test) / total);
  const nTrain = n - nVal - nTest;
  if (nTrain < 1) {
    throw new DataError(`${what}: ${n} rows are too few to split into train/val/test`, 'add data, or lower data.split.val and data.split.test');
  }
  const order = permutation(n, deriveSeed(seed, SPLIT_STREAM));
  const sorted = (a: Uint32Array) => Array.from(a).sort((x, y) => x - y);
  return {
    val: sorted(order.subarray(0, nVal)),
    test: sorted(order.subarray(nVal, nVal + nTest)),
    train: sorted(order.subarray(nVal + nTest)),
  };
}

/**
 * With explicit split files, a split without a file is carved from the train file
 * in proportion to the fractions, e.g. val = train rows * val / (train + val).
 */
export function carveFractions(fractions: Fractions, hasVal: boolean, hasTest: boolean): Fractions {
  return { train: fractions.train, val: hasVal ? 0 : fractions.val, test: hasTest ? 0 : fractions.test };
}
