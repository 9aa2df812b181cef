import Table from 'cli-table3';
import { sampleSize } from '../data/batches';
import type { InputSpec } from '../inputs';
import { formatNumber } from '../training/progress';

const compact = { style: { head: [], border: [], compact: true }, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } };

/**
 * Per-task metrics as a compact table: one row per task, `n` the rows that carry its
 * label. Per-label metrics (`f1.<label>`, ...) of multilabel tasks follow in a table per
 * task, one row per label.
 */
export function metricsTable(tasks: Record<string, { loss: number; metrics: Record<string, number>; n?: number }>): string {
  const perLabel = (key: string) => key.includes('.');
  const metricNames = [...new Set(Object.values(tasks).flatMap((t) => Object.keys(t.metrics)))].filter((m) => !perLabel(m));
  const table = new Table({ head: ['task', 'n', 'loss', ...metricNames], ...compact });
  for (const [task, e] of Object.entries(tasks)) {
    table.push([task, e.n === undefined ? '' : String(e.n), formatNumber(e.loss), ...metricNames.map((m) => (m in e.metrics ? formatNumber(e.metrics[m]) : ''))]);
  }
  const parts = [table.toString()];
  for (const [task, e] of Object.entries(tasks)) {
    const keys = Object.keys(e.metrics).filter(perLabel);
    if (keys.length === 0) continue;
    const names = [...new Set(keys.map((k) => k.slice(0, k.indexOf('.'))))];
    const labels = [...new Set(keys.map((k) => k.slice(k.indexOf('.') + 1)))];
    const labelTable = new Table({ head: [`${task} label`, ...names], ...compact });
    for (const label of labels) labelTable.push([label, ...names.map((m) => (`${m}.${label}` in e.metrics ? formatNumber(e.metrics[`${m}.${label}`]) : ''))]);
    parts.push(labelTable.toString());
  }
  return parts.join('\n');
}

/** `island (category, 3), bill_length_mm (numeric), image (image 28x28x1)` */
export function describeInputs(inputs: InputSpec[]): string {
  if (inputs.length > 6 && inputs.every((i) => i.type !== 'image')) {
    const width = inputs.reduce((n, i) => n + sampleSize(i.shape), 0);
    const counts = ['numeric', 'category'].map((t) => `${inputs.filter((i) => i.type === t).length} ${t}`).join(', ');
    return `${inputs.length} columns (${counts}), ${width} values per sample`;
  }
  return inputs.map((i) => `${i.name} (${i.type}${i.type === 'numeric' ? '' : ` ${i.shape.join('x')}`})`).join(', ');
}
