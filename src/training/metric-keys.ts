/**
 * The names of everything logged per epoch, Keras/Lightning style:
 * `train/loss`, `train/<task>/loss`, `val/loss`, `val/<task>/loss`, `val/<task>/<metric>`.
 */
import type { Config, MonitorMode, TaskConfig } from '../config/schema';
import { lossTermNames } from '../models/loss-terms';

export function taskMetricNames(task: TaskConfig): string[] {
  return [...task.metrics];
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

const higherIsBetter = new Set(['accuracy', 'macro_f1', 'r2']);

/** `auto` resolves to `max` for accuracy, macro-F1 and R², `min` for losses and errors. */
export function resolveMode(key: string, mode: MonitorMode): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  const metric = key.split('/').pop() ?? '';
  return higherIsBetter.has(metric) ? 'max' : 'min';
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
