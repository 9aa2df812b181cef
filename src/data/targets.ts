/**
 * What classification and multilabel targets need beyond their labels, fitted on the
 * train split and shared by the table and IDX loaders: class weights (`class_weight`),
 * positive weights (`pos_weight`), the label set of a multilabel column, and the
 * checks that need the number of classes (top_k, focal_alpha).
 */
import type { ClassificationTaskConfig, MultilabelTaskConfig } from '../config/schema';
import { DataError } from '../errors';
import { parseNumber } from './csv';
import { LIST_CELL } from './jsonl';

/** Default k of top_k_accuracy. */
export const DEFAULT_TOP_K = 5;
/** Default γ of the focal loss (Lin et al. 2017). */
export const DEFAULT_FOCAL_GAMMA = 2;

/** Checks of a classification task that need its classes (num_classes may be absent from the config). */
export function checkClasses(name: string, task: ClassificationTaskConfig, classes: string[]): void {
  const k = task.top_k ?? DEFAULT_TOP_K;
  if (task.metrics.includes('top_k_accuracy') && classes.length <= k) {
    throw new DataError(
      `task ${name}: top_k_accuracy with top_k ${k} needs more than ${k} classes; the data holds ${classes.length} (${classes.join(', ')})`,
      `set tasks.${name}.top_k below ${classes.length}, or remove top_k_accuracy from tasks.${name}.metrics`,
    );
  }
  if (task.focal_alpha !== undefined && classes.length !== 2) {
    throw new DataError(
      `task ${name}: focal_alpha weighs the two classes of a binary task; the data holds ${classes.length} classes`,
      `remove tasks.${name}.focal_alpha and give per-class weights with tasks.${name}.class_weight`,
    );
  }
}

/**
 * Per-class loss weights of `class_weight`, or undefined without one. `balanced`:
 * n / (K · count_c) over the train split's labelled rows (scikit-learn's
 * compute_class_weight), K the classes present there; a class absent from the train
 * split gets 1. `{class: weight}`: the weights given, 1 for the classes not listed.
 */
export function classWeights(name: string, task: ClassificationTaskConfig, classes: string[], trainClasses: ArrayLike<number>): number[] | undefined {
  const given = task.class_weight;
  if (given === undefined) return undefined;
  const counts = new Array<number>(classes.length).fill(0);
  for (let i = 0; i < trainClasses.length; i++) counts[trainClasses[i]]++;
  return classWeightsFromCounts(name, task, classes, counts);
}

/** classWeights from the train split's count of each class. */
export function classWeightsFromCounts(name: string, task: ClassificationTaskConfig, classes: string[], counts: number[]): number[] | undefined {
  const given = task.class_weight;
  if (given === undefined) return undefined;
  if (given === 'balanced') {
    const total = counts.reduce((a, b) => a + b, 0);
    const present = counts.filter((c) => c > 0).length;
    return counts.map((c) => (c > 0 ? total / (present * c) : 1));
  }
  for (const c of Object.keys(given)) {
    if (!classes.includes(c)) {
      throw new DataError(`task ${name}: class_weight names class "${c}", which the data does not hold`, `the classes are ${classes.join(', ')}`);
    }
  }
  return classes.map((c) => given[c] ?? 1);
}

/**
 * The labels of one multilabel cell (already known not to be missing): a JSONL array, or
 * the cell split at the task's delimiter; blank parts are dropped, repeats kept once.
 */
export function labelSet(cell: string, task: MultilabelTaskConfig): string[] {
  const parts = cell.startsWith(LIST_CELL) ? (JSON.parse(cell.slice(LIST_CELL.length)) as unknown[]).map(String) : cell.split(task.delimiter);
  return [...new Set(parts.map((p) => p.trim()).filter((p) => p !== ''))];
}

/** The task's labels: `labels` as given, else the sorted labels of the training rows (numerically when all are numbers). */
export function multilabelLabels(name: string, task: MultilabelTaskConfig, sets: string[][]): string[] {
  if (task.labels) return task.labels;
  const distinct = [...new Set(sets.flat())];
  const numeric = distinct.every((l) => parseNumber(l) !== undefined);
  distinct.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
  if (distinct.length === 0) throw new DataError(`task ${name}: the training data holds no label (every labelled cell of column "${task.target}" is empty)`, `check the column, its delimiter (tasks.${name}.delimiter "${task.delimiter}"), or give tasks.${name}.labels`);
  return distinct;
}

/**
 * Per-label weights of the positive terms, or undefined without `pos_weight`.
 * `balanced`: negatives / positives over the train split's labelled rows (1 for a label
 * that is always or never present there).
 */
export function positiveWeights(name: string, task: MultilabelTaskConfig, labels: string[], trainSets: string[][]): number[] | undefined {
  const given = task.pos_weight;
  if (given === undefined) return undefined;
  if (typeof given === 'number') return labels.map(() => given);
  if (given === 'balanced') {
    const positives = new Map<string, number>();
    for (const set of trainSets) for (const l of new Set(set)) positives.set(l, (positives.get(l) ?? 0) + 1);
    return positiveWeightsFromCounts(name, task, labels, positives, trainSets.length);
  }
  for (const l of Object.keys(given)) {
    if (!labels.includes(l)) throw new DataError(`task ${name}: pos_weight names label "${l}", which is not one of the task's labels`, `the labels are ${labels.join(', ')}`);
  }
  return labels.map((l) => given[l] ?? 1);
}

/** `a 0.6667, b 2`: weights for a log line. */
export function describeWeights(names: string[], weights: number[]): string {
  return names.map((n, i) => `${n} ${Number(weights[i].toPrecision(4))}`).join(', ');
}

/** positiveWeights from each label's count of train rows holding it, of `total` labelled train rows. */
export function positiveWeightsFromCounts(name: string, task: MultilabelTaskConfig, labels: string[], positives: Map<string, number>, total: number): number[] | undefined {
  const given = task.pos_weight;
  if (given !== 'balanced') return positiveWeights(name, task, labels, []);
  return labels.map((l) => {
    const p = positives.get(l) ?? 0;
    const negatives = total - p;
    return p > 0 && negatives > 0 ? negatives / p : 1;
  });
}
