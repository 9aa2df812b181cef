/**
 * The names of everything logged per epoch, Keras/Lightning style:
 * `train/loss`, `train/<task>/loss`, `val/loss`, `val/<task>/loss`, `val/<task>/<metric>`.
 */
import type { Config, MonitorMode, TaskConfig } from '../config/schema';
import { lossTermNames } from '../models/loss-terms';

/** Per-label metrics of a multilabel task's `per_label`: `<metric>.<label>`. */
export const perLabelMetrics = ['precision', 'recall', 'f1'] as const;

/**
 * A task's metric names; a multilabel `per_label` becomes `precision.<label>`,
 * `recall.<label>`, `f1.<label>` when the config lists the labels (otherwise the labels
 * come from the data and those columns are added as they first appear).
 */
export function taskMetricNames(task: TaskConfig): string[] {
  return task.metrics.flatMap((m) => (m === 'per_label' ? (task.type === 'multilabel' && task.labels ? task.labels.flatMap((l) => perLabelMetrics.map((p) => `${p}.${l}`)) : []) : [m]));
}

/** Whether `key` is `val/<task>/<precision|recall|f1>.<label>` of a multilabel task with per_label whose labels come from the data. */
export function isPerLabelKey(config: Config, key: string): boolean {
  const [split, task, ...rest] = key.split('/');
  const t = config.tasks[task];
  if (split !== 'val' || !t || t.type !== 'multilabel' || t.labels || !t.metrics.includes('per_label') || !hasValidation(config)) return false;
  const metric = rest.join('/');
  return perLabelMetrics.some((p) => metric.startsWith(`${p}.`) && metric.length > p.length + 1);
}

/** Whether the config yields a validation split. */
export function hasValidation(config: Config): boolean {
  const data = config.data;
  if ('splits' in data && data.splits) return data.splits.val !== undefined || data.split.val > 0;
  return data.split.val > 0;
}

/** Every key a monitor may name, in the order metrics.csv lists them. */
export function monitorableKeys(config: Config): string[] {
  const tasks = Object.keys(config.tasks);
  const keys = ['train/loss', ...tasks.map((t) => `train/${t}/loss`)];
  if (hasValidation(config)) {
    keys.push('val/loss');
    for (const t of tasks) {
      keys.push(`val/${t}/loss`, ...taskMetricNames(config.tasks[t]).map((m) => `val/${t}/${m}`));
    }
  }
  return keys;
}

/** Metrics where a larger value is better; every other key (losses, errors, cross-entropies) is minimized. */
export const higherIsBetter: ReadonlySet<string> = new Set([
  'accuracy',
  'macro_f1',
  'r2',
  'roc_auc',
  'precision',
  'recall',
  'top_k_accuracy',
  'micro_f1',
  'micro_precision',
  'micro_recall',
  'macro_precision',
  'macro_recall',
  'subset_accuracy',
  'f1',
]);

/**
 * `auto` resolves to `max` for accuracy, F1, precision, recall, ROC AUC, top-k and subset
 * accuracy and R² (a per-label `f1.<label>` by its metric), `min` for losses and errors.
 */
export function resolveMode(key: string, mode: MonitorMode): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  const parts = key.split('/');
  // `val/<task>/<metric>` (a label may hold a "/"), `val/loss`, `x/<metric>`.
  const metric = parts.length >= 3 ? parts.slice(2).join('/') : (parts.pop() ?? '');
  return higherIsBetter.has(metric.split('.')[0]) ? 'max' : 'min';
}

/** Whether the sharing scheme leaves parameters that several tasks share (gradient diagnostics need them). */
export function hasSharedParameters(config: Config): boolean {
  return config.model.sharing.type !== 'soft' && Object.keys(config.tasks).length > 1;
}

/** Columns of metrics.csv beyond the monitorable ones: the sharing scheme's loss terms, weights, gradient diagnostics. */
export function extraColumns(config: Config): string[] {
  const tasks = Object.keys(config.tasks);
  const columns: string[] = [];
  for (const name of lossTermNames(config.model.sharing)) columns.push(`train/${name}`);
  columns.push(...tasks.map((t) => `weight/${t}`));
  if (config.training.diagnostics.enabled && hasSharedParameters(config)) {
    columns.push(...tasks.map((t) => `grad_norm/${t}`));
    for (let a = 0; a < tasks.length; a++) for (let b = a + 1; b < tasks.length; b++) columns.push(`grad_cos/${tasks[a]}~${tasks[b]}`);
  }
  return columns;
}
