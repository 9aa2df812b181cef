/** Table files (CSV, and JSONL through jsonl.ts) as a header and rows of trimmed strings, each row with its line number. */
import { parse } from 'csv-parse/sync';
import { closest } from 'fastest-levenshtein';
import { DataError } from '../errors';
import { decodeUtf8, readDataFile } from './files';
import { readImageFolder } from './image-folder';
import { readJsonl } from './jsonl';

export interface CsvTable {
  file: string;
  header: string[];
  rows: string[][];
  /** 1-based line number of each row (the header is line 1). */
  lines: number[];
}

export function readCsv(file: string, key: string, delimiter: string, limit?: number): CsvTable {
  const text = decodeUtf8(readDataFile(file, key), file);
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { delimiter, bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true }) as unknown as typeof records;
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new DataError(`${file}${err.lines ? `:${err.lines}` : ''}: not valid CSV (${err.message})`, 'check quoting and delimiters near that line');
  }
  if (records.length === 0) throw new DataError(`${file}: the file is empty`, 'a CSV file needs a header row and data rows');
  const header = records[0].record;
  const seen = new Set<string>();
  header.forEach((name, i) => {
    if (!name) throw new DataError(`${file}:1: column ${i + 1} of the header has no name`, 'give every column a name in the header row');
    if (seen.has(name)) throw new DataError(`${file}:1: column "${name}" appears twice in the header`, 'column names must be unique');
    seen.add(name);
  });
  let body = records.slice(1);
  if (body.length === 0) throw new DataError(`${file}: has a header but no data rows`, 'add data rows below the header');
  if (limit !== undefined) body = body.slice(0, limit);
  for (const r of body) {
    if (r.record.length !== header.length) {
      throw new DataError(
        `${file}:${r.info.lines}: expected ${header.length} cells (as in the header), found ${r.record.length}`,
        'every row needs one cell per header column; check for a missing or extra delimiter',
      );
    }
  }
  return { file, header, rows: body.map((r) => r.record), lines: body.map((r) => r.info.lines) };
}

/** A table file in its format: CSV (with the delimiter), JSONL, or an image folder. */
export function readTable(file: string, key: string, format: TableFormat, delimiter: string, limit?: number): CsvTable {
  if (format === 'image_folder') return readImageFolder(file, key, limit);
  return format === 'jsonl' ? readJsonl(file, key, limit) : readCsv(file, key, delimiter, limit);
}

export type TableFormat = 'csv' | 'jsonl' | 'image_folder';

/** Index of a column, or a DataError listing the columns and the nearest name. */
export function columnIndex(table: CsvTable, name: string, key: string): number {
  const i = table.header.indexOf(name);
  if (i >= 0) return i;
  const near = closest(name, table.header);
  throw new DataError(
    `${table.file}: no column "${name}" (named in ${key}); did you mean "${near}"?`,
    `the columns are: ${table.header.join(', ')}`,
  );
}

/** A cell as a finite number, or undefined when it is not one. */
export function parseNumber(cell: string): number | undefined {
  if (cell === '') return undefined;
  const value = Number(cell);
  return Number.isFinite(value) ? value : undefined;
}

/** Values beyond this are treated as data errors rather than trained on. */
export const MAX_ABS_VALUE = 1e30;

export type NumericCell = { ok: true; value: number } | { ok: false; problem: string };

/** A cell as a number fit to train on, or the problem (`holds "x", expected a number`). */
export function numericCell(cell: string, purpose: 'train on' | 'score'): NumericCell {
  const value = cell === '' ? NaN : Number(cell);
  if (Number.isNaN(value)) return { ok: false, problem: `holds "${cell}", expected a number` };
  if (!Number.isFinite(value)) return { ok: false, problem: `holds ${cell}, not a finite number` };
  if (Math.abs(value) > MAX_ABS_VALUE) return { ok: false, problem: `holds ${cell}, too large to ${purpose}` };
  return { ok: true, value };
}
