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

/** What must hold the split together besides the fractions. */
export interface SplitConstraints {
  /** Per row, its class (null: unlabelled): each class is cut in the fractions on its own. */
  strata?: (string | null)[];
  /** Per row, its group: rows of one group all go to the same split. */
  groups?: string[];
}

/**
 * Shuffles 0..n-1 with the seed, then cuts it: val and test get round(n * fraction)
 * rows, train the rest. Each part keeps source order, so files read naturally. With
 * strata each class is shuffled and cut alone (class proportions kept in every part);
 * with groups whole groups are shuffled and dealt out until each part has its share.
 */
export function splitIndices(n: number, fractions: Fractions, seed: number, what: string, constraints: SplitConstraints = {}): SplitIndices {
  const rows = splitRows(n, fractions, seed, what, constraints);
  return { train: Array.from(rows.train), val: Array.from(rows.val), test: Array.from(rows.test) };
}

/** splitIndices as typed arrays (what the table loader indexes its columns with). */
export function splitRows(n: number, fractions: Fractions, seed: number, what: string, constraints: SplitConstraints = {}): { train: Int32Array; val: Int32Array; test: Int32Array } {
  const flag = splitFlags(n, fractions, seed, what, constraints);
  const sizes = [0, 0, 0];
  for (let r = 0; r < n; r++) sizes[flag[r]]++;
  const lists = sizes.map((size) => new Int32Array(size));
  const at = [0, 0, 0];
  for (let r = 0; r < n; r++) {
    const part = flag[r];
    lists[part][at[part]++] = r;
  }
  return { train: lists[0], val: lists[1], test: lists[2] };
}

/** splitIndices as one flag per row: 0 train, 1 val, 2 test (a byte a row, for streamed files). */
export function splitFlags(n: number, fractions: Fractions, seed: number, what: string, constraints: SplitConstraints = {}): Uint8Array {
  const total = fractions.train + fractions.val + fractions.test;
  const nVal = Math.round((n * fractions.val) / total);
  const nTest = Math.round((n * fractions.test) / total);
  const nTrain = n - nVal - nTest;
  if (nTrain < 1) {
    throw new DataError(`${what}: ${n} rows are too few to split into train/val/test`, 'add data, or lower data.split.val and data.split.test');
  }
  let parts: { val: ArrayLike<number>; test: ArrayLike<number>; train: ArrayLike<number> };
  if (constraints.groups) parts = byGroup(constraints.groups, nVal, nTest, seed);
  else if (constraints.strata) parts = byStratum(constraints.strata, fractions.val / total, fractions.test / total, seed);
  else {
    const order = permutation(n, deriveSeed(seed, SPLIT_STREAM));
    parts = { val: order.subarray(0, nVal), test: order.subarray(nVal, nVal + nTest), train: order.subarray(nVal + nTest) };
  }
  if (parts.train.length < 1) throw new DataError(`${what}: no rows are left for train after the split`, 'add data, or lower data.split.val and data.split.test');
  // Every row is in exactly one part; train is flag 0.
  const flag = new Uint8Array(n);
  for (let i = 0; i < parts.val.length; i++) flag[parts.val[i]] = 1;
  for (let i = 0; i < parts.test.length; i++) flag[parts.test[i]] = 2;
  return flag;
}

function byStratum(strata: (string | null)[], val: number, test: number, seed: number) {
  const classes = new Map<string, number[]>();
  strata.forEach((c, i) => {
    const key = c ?? '\u0000unlabelled';
    if (!classes.has(key)) classes.set(key, []);
    classes.get(key)!.push(i);
  });
  const parts = { val: [] as number[], test: [] as number[], train: [] as number[] };
  [...classes.keys()].sort().forEach((key, k) => {
    const rows = classes.get(key)!;
    const order = permutation(rows.length, deriveSeed(seed, SPLIT_STREAM, k + 1));
    const nVal = Math.round(rows.length * val);
    const nTest = Math.round(rows.length * test);
    order.forEach((o, i) => (i < nVal ? parts.val : i < nVal + nTest ? parts.test : parts.train).push(rows[o]));
  });
  return parts;
}

function byGroup(groups: string[], nVal: number, nTest: number, seed: number) {
  const members = new Map<string, number[]>();
  groups.forEach((g, i) => {
    if (!members.has(g)) members.set(g, []);
    members.get(g)!.push(i);
  });
  const names = [...members.keys()];
  const order = permutation(names.length, deriveSeed(seed, SPLIT_STREAM));
  const parts = { val: [] as number[], test: [] as number[], train: [] as number[] };
  for (const o of order) {
    const rows = members.get(names[o])!;
    const part = parts.val.length < nVal ? parts.val : parts.test.length < nTest ? parts.test : parts.train;
    part.push(...rows);
  }
  return parts;
}

/**
 * With explicit split files, a split without a file is carved from the train file
 * in proportion to the fractions, e.g. val = train rows * val / (train + val).
 */
export function carveFractions(fractions: Fractions, hasVal: boolean, hasTest: boolean): Fractions {
  return { train: fractions.train, val: hasVal ? 0 : fractions.val, test: hasTest ? 0 : fractions.test };
}
