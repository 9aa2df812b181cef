/**
 * Partly labelled tasks: a row may carry the labels of some tasks and not others.
 * In a Split, an unlabelled row holds UNLABELLED_CLASS (classification) or NaN in
 * every column (regression, multilabel); everything that reads targets asks here which rows count.
 *
 * Class-weighted classification targets (`class_weight`) carry each row's weight with
 * it: two int32 per row, the class index and the weight's float32 bits. So the weight
 * travels wherever the targets go (batches, data-parallel threads, eval files), and
 * countLabelled gives the sum of the weights of the labelled rows: the denominator of
 * the weighted mean, for the whole batch, whichever shard holds each row.
 */
export const UNLABELLED_CLASS = -1;

/** Encoded targets of one task: class indices (with weights) or standardized values / label indicators (size * k). */
export type TaskTargets = Int32Array | Float32Array;

export function isLabelled(values: TaskTargets, row: number, k: number): boolean {
  return values instanceof Int32Array ? values[row * k] !== UNLABELLED_CLASS : !Number.isNaN(values[row * k]);
}

/** Whether `values` (n rows) are class indices with per-row weights. */
export function isWeightedClasses(values: TaskTargets, n: number): values is Int32Array {
  return values instanceof Int32Array && n > 0 && values.length === 2 * n;
}

/** Class indices with per-row weights (see above); an unlabelled row has weight 0. */
export function weightedClasses(classes: Int32Array, weights: ArrayLike<number>): Int32Array {
  const out = new Int32Array(classes.length * 2);
  const asFloat = new Float32Array(out.buffer);
  classes.forEach((c, i) => {
    out[2 * i] = c;
    asFloat[2 * i + 1] = c === UNLABELLED_CLASS ? 0 : weights[c];
  });
  return out;
}

/** The class index of each of the n rows (the first column of weighted targets). */
export function classColumn(values: Int32Array, n: number): Int32Array {
  if (!isWeightedClasses(values, n)) return values;
  return Int32Array.from({ length: n }, (_, i) => values[2 * i]);
}

/** Each of the n rows' weight: 1 (0 unlabelled) unless the targets carry weights. */
export function rowWeights(values: Int32Array, n: number): Float32Array {
  if (isWeightedClasses(values, n)) {
    const asFloat = new Float32Array(values.buffer, values.byteOffset, values.length);
    return Float32Array.from({ length: n }, (_, i) => (values[2 * i] === UNLABELLED_CLASS ? 0 : asFloat[2 * i + 1]));
  }
  return Float32Array.from(values, (c) => (c === UNLABELLED_CLASS ? 0 : 1));
}

/** Indices of the rows of `values` (n rows) that carry the task's label. */
export function labelledRows(values: TaskTargets, n: number): Int32Array {
  const k = n > 0 ? values.length / n : 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (isLabelled(values, i, k)) out.push(i);
  return Int32Array.from(out);
}

/**
 * How many of rows order[start..end) carry the task's label; for class-weighted targets
 * the sum of their weights (what a weighted mean divides by).
 */
export function countLabelled(values: TaskTargets, n: number, order: ArrayLike<number>, start: number, end: number): number {
  const k = n > 0 ? values.length / n : 1;
  if (isWeightedClasses(values, n)) {
    const asFloat = new Float32Array(values.buffer, values.byteOffset, values.length);
    let sum = 0;
    for (let i = start; i < end; i++) if (values[2 * order[i]] !== UNLABELLED_CLASS) sum += asFloat[2 * order[i] + 1];
    return sum;
  }
  let count = 0;
  for (let i = start; i < end; i++) if (isLabelled(values, order[i], k)) count++;
  return count;
}

/** The rows `rows` of n x k `values`, in that order. */
export function selectRows<T extends TaskTargets>(values: T, n: number, rows: Int32Array): T {
  const k = n > 0 ? values.length / n : 1;
  const out = (values instanceof Int32Array ? new Int32Array(rows.length * k) : new Float32Array(rows.length * k)) as T;
  rows.forEach((r, i) => out.set(values.subarray(r * k, (r + 1) * k), i * k));
  return out;
}
