import Table from 'cli-table3';
import { formatNumber } from '../training/progress';

/** Per-task metrics as a compact table: one row per task and metric column. */
export function metricsTable(tasks: Record<string, { loss: number; metrics: Record<string, number> }>): string {
  const metricNames = [...new Set(Object.values(tasks).flatMap((t) => Object.keys(t.metrics)))];
  const table = new Table({
    head: ['task', 'loss', ...metricNames],
    style: { head: [], border: [], compact: true },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const [task, e] of Object.entries(tasks)) {
    table.push([task, formatNumber(e.loss), ...metricNames.map((m) => (m in e.metrics ? formatNumber(e.metrics[m]) : ''))]);
  }
  return table.toString();
}
