/**
 * Table files (CSV, JSONL through jsonl.ts, Parquet through parquet.ts, image folders,
 * and globs of shards of one format) as columnar tables: read in a stream, each column
 * the config uses into a typed column (columns.ts), never one object per row.
 */
import { closest } from 'fastest-levenshtein';
import { DataError } from '../errors';
import { MissingValues, TableBuilder, type ColumnHint, type Table } from './columns';
import { CsvReader } from './csv-reader';
import { expandGlob, isGlob } from './files';
import { readImageFolder } from './image-folder';
import { JsonlReader } from './jsonl';

export { MAX_ABS_VALUE, numericCell, parseNumber, type NumericCell } from './numbers';

export type TableFormat = 'csv' | 'jsonl' | 'parquet' | 'image_folder';

/** A table as rows of strings (small samples: mtl init). */
export interface CsvTable {
  file: string;
  header: string[];
  rows: string[][];
  /** 1-based line number of each row (the header is line 1). */
  lines: number[];
}

export interface ReadOptions {
  /** How to read each column (by name); undefined: not at all. */
  hint: (name: string) => ColumnHint | undefined;
  na: MissingValues;
  /** Only the first `limit` data rows. */
  limit?: number;
}

/**
 * A table file in its format, its used columns typed by `options.hint`. A glob
 * (`data/part-*.csv`) reads every file it matches, in sorted order, as one table whose
 * rows know their shard; CSV shards must have one header.
 */
export function readColumns(file: string, key: string, format: TableFormat, delimiter: string, options: ReadOptions): Table {
  if (format === 'image_folder') return readImageFolder(file, key, options);
  if (format === 'parquet') throw new DataError(`${file}: Parquet files are read by loadData (asynchronously)`, 'use mtl train or mtl eval');
  const files = isGlob(file) ? expandGlob(file, key) : [file];
  const builder = new TableBuilder(file, options.hint, options.na);
  const limit = options.limit ?? Infinity;
  const starts: number[] = [];
  let firstHeader: string[] | undefined;
  for (const shard of files) {
    if (builder.size >= limit) break;
    starts.push(builder.size);
    if (format === 'jsonl') {
      const reader = new JsonlReader(shard, key);
      try {
        reader.read(builder, limit - builder.size);
      } finally {
        reader.close();
      }
      continue;
    }
    const reader = new CsvReader(shard, key, delimiter);
    try {
      const header = reader.readHeader();
      if (!firstHeader) {
        firstHeader = header;
        builder.setHeader(header);
      } else {
        checkShardHeader(files[0], firstHeader, shard, header);
      }
      builder.reserve(Math.min(limit, builder.size + reader.estimateRecords()));
      const before = builder.size;
      reader.read(builder, limit - builder.size);
      if (builder.size === before) throw new DataError(`${shard}: has a header but no data rows`, 'add data rows below the header');
    } finally {
      reader.close();
    }
  }
  if (builder.size === 0) throw new DataError(`${file}: holds no JSON objects`, 'a JSONL file needs one JSON object per line');
  const table = builder.finish();
  if (files.length > 1 || isGlob(file)) table.shards = shardsOf(files.slice(0, starts.length), starts, table.size);
  return table;
}

/** Each row's shard, from the row each shard starts at. */
export function shardsOf(files: string[], starts: number[], size: number): { files: string[]; of: Uint16Array } {
  if (files.length > 65535) throw new DataError(`a glob matches ${files.length} files; at most 65535 shards are read`, 'merge some of the shards');
  const of = new Uint16Array(size);
  starts.forEach((start, s) => of.fill(s, start, s + 1 < starts.length ? starts[s + 1] : size));
  return { files, of };
}

/** A shard whose header differs from the first shard's: an error naming both files. */
export function checkShardHeader(firstFile: string, first: string[], file: string, header: string[]): void {
  if (header.length === first.length && header.every((h, i) => h === first[i])) return;
  const extra = header.filter((h) => !first.includes(h));
  const lacking = first.filter((h) => !header.includes(h));
  const what = extra.length || lacking.length ? [lacking.length ? `lacks ${lacking.map((c) => `"${c}"`).join(', ')}` : '', extra.length ? `has ${extra.map((c) => `"${c}"`).join(', ')} besides` : ''].filter(Boolean).join(' and ') : 'has the same columns in another order';
  throw new DataError(`${file}: its columns do not match those of ${firstFile}: it ${what}`, `every shard of a glob needs the header of the first (${first.join(', ')})`);
}

/** The column names of a table file (JSONL: every key of every line). */
export function readHeader(file: string, key: string, format: TableFormat, delimiter: string): string[] {
  return readColumns(file, key, format, delimiter, { hint: () => undefined, na: new MissingValues(new Set()) }).header;
}

/** A table file as rows of strings (every column; for samples: `limit` keeps it small). */
export function readTable(file: string, key: string, format: TableFormat, delimiter: string, limit?: number): CsvTable {
  const table = readColumns(file, key, format, delimiter, { hint: () => 'string', na: new MissingValues(new Set()), limit });
  const rows = Array.from({ length: table.size }, (_, r) => table.columns.map((c) => c!.text(r)));
  return { file, header: table.header, rows, lines: Array.from(table.lines) };
}

/** Index of a column, or a DataError listing the columns and the nearest name. */
export function columnIndex(table: { file: string; header: string[] }, name: string, key: string): number {
  const i = table.header.indexOf(name);
  if (i >= 0) return i;
  const near = closest(name, table.header);
  throw new DataError(
    `${table.file}: no column "${name}" (named in ${key}); did you mean "${near}"?`,
    `the columns are: ${table.header.join(', ')}`,
  );
}
