/**
 * Partly labelled tasks: a row may carry the labels of some tasks and not others.
 * In a Split, an unlabelled row holds UNLABELLED_CLASS (classification) or NaN in
 * every column (regression); everything that reads targets asks here which rows count.
 */
export const UNLABELLED_CLASS = -1;

/** Encoded targets of one task: class indices or standardized values (size * k). */
export type TaskTargets = Int32Array | Float32Array;

export function isLabelled(values: TaskTargets, row: number, k: number): boolean {
  return values instanceof Int32Array ? values[row] !== UNLABELLED_CLASS : !Number.isNaN(values[row * k]);
}

/** Indices of the rows of `values` (n rows) that carry the task's label. */
export function labelledRows(values: TaskTargets, n: number): Int32Array {
  const k = n > 0 ? values.length / n : 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (isLabelled(values, i, k)) out.push(i);
  return Int32Array.from(out);
}

/** How many of rows order[start..end) carry the task's label. */
export function countLabelled(values: TaskTargets, n: number, order: ArrayLike<number>, start: number, end: number): number {
  const k = n > 0 ? values.length / n : 1;
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
