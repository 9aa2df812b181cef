/**
 * metrics.csv and metrics.jsonl, one row per epoch. Both files are rewritten
 * atomically after every epoch, so a crash never leaves half a row; a crash between
 * the two writes leaves metrics.jsonl (written first, and read on resume) one row ahead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic';

export type MetricsRow = Record<string, number>;

export class MetricsWriter {
  private readonly rows: MetricsRow[] = [];
  private readonly columns: string[];

  constructor(
    private readonly csvPath: string,
    private readonly jsonlPath: string,
    /** Columns known in advance, in order; keys first seen later are appended. */
    columns: string[],
  ) {
    this.columns = [...columns];
  }

  /** Keeps the rows already on disk up to and including `lastEpoch` (for resumed runs). */
  loadExisting(lastEpoch: number): void {
    if (!existsSync(this.jsonlPath)) return;
    for (const line of readFileSync(this.jsonlPath, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const row = JSON.parse(line) as MetricsRow;
      if (row.epoch <= lastEpoch) this.add(row, false);
    }
  }

  append(row: MetricsRow): void {
    this.add(row, true);
  }

  all(): readonly MetricsRow[] {
    return this.rows;
  }

  private add(row: MetricsRow, write: boolean): void {
    for (const key of Object.keys(row)) if (!this.columns.includes(key)) this.columns.push(key);
    this.rows.push(row);
    if (write) this.flush();
  }

  private flush(): void {
    const csv = [this.columns.join(',')];
    for (const row of this.rows) csv.push(this.columns.map((c) => formatCell(row[c])).join(','));
    writeFileAtomic(this.jsonlPath, this.rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeFileAtomic(this.csvPath, `${csv.join('\n')}\n`);
  }
}

function formatCell(value: number | undefined): string {
  if (value === undefined) return '';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}
