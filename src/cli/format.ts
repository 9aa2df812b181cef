import Table from 'cli-table3';
import { formatNumber } from '../training/progress';

/** Per-task metrics as a compact table: one row per task, `n` the rows that carry its label. */
export function metricsTable(tasks: Record<string, { loss: number; metrics: Record<string, number>; n?: number }>): string {
  const metricNames = [...new Set(Object.values(tasks).flatMap((t) => Object.keys(t.metrics)))];
  const table = new Table({
    head: ['task', 'n', 'loss', ...metricNames],
    style: { head: [], border: [], compact: true },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const [task, e] of Object.entries(tasks)) {
    table.push([task, e.n === undefined ? '' : String(e.n), formatNumber(e.loss), ...metricNames.map((m) => (m in e.metrics ? formatNumber(e.metrics[m]) : ''))]);
  }
  return table.toString();
}
