/**
 * Apache Parquet tables (`format: parquet`), read with hyparquet (plain JavaScript, no
 * native or WebAssembly build, snappy built in; maintained, and the reader the Hugging
 * Face viewer uses) one row group at a time, only the columns the config uses, straight
 * into the column builders: numbers as numbers, strings as codes, null as missing, a
 * list as a multilabel cell. A row's `line` is its 1-based row number in its file. A
 * glob reads the shards in sorted order; every shard must have the first one's columns.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { Config, TableDataConfig, TaskConfig } from '../config/schema';
import { DataError } from '../errors';
import { releaseDecodedImages } from '../inputs/image';
import { LIST_CELL, MISSING_CELL, MissingValues, TableBuilder, type ColumnBuilder, type Table } from './columns';
import { checkShardHeader, shardsOf, type ReadOptions } from './csv';
import { expandGlob, isGlob } from './files';
import { applyToTable, columnHints, loadTables, savedHints } from './tabular';
import type { LoadedData, Preprocessing, Split, UnscorableRow } from './types';

type Hyparquet = typeof import('hyparquet', { with: { 'resolution-mode': 'import' } });
let hyparquet: Promise<Hyparquet> | undefined;
// hyparquet is an ES module: loaded once, on the first Parquet file.
const load = () => (hyparquet ??= import('hyparquet'));

/** A file as hyparquet's AsyncBuffer, read with positioned reads. */
function fileBuffer(file: string, key: string): { buffer: { byteLength: number; slice(start: number, end?: number): ArrayBuffer }; close(): void } {
  let size: number;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) throw new DataError(`${file}: is a directory, expected a file (from ${key})`, `point ${key} at a file inside it`);
    size = stat.size;
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${file}: no such file (from ${key})`, `check ${key} in the config; relative paths are relative to the config file`);
  }
  if (size === 0) throw new DataError(`${file}: the file is empty (from ${key})`, 'point the config at a file with data');
  const fd = openSync(file, 'r');
  return {
    buffer: {
      byteLength: size,
      slice(start: number, end = size) {
        const out = Buffer.allocUnsafe(Math.max(0, end - start));
        let at = 0;
        while (at < out.length) {
          const n = readSync(fd, out, at, out.length - at, start + at);
          if (n === 0) break;
          at += n;
        }
        return out.buffer.slice(out.byteOffset, out.byteOffset + at) as ArrayBuffer;
      },
    },
    close: () => closeSync(fd),
  };
}

function pushCell(builder: ColumnBuilder, row: number, value: unknown): void {
  if (value === null || value === undefined) builder.pushText(row, MISSING_CELL);
  else if (typeof value === 'number') builder.pushNumber(row, value);
  else if (typeof value === 'string') builder.pushText(row, value.trim());
  else if (typeof value === 'bigint') builder.pushNumber(row, Number(value));
  else if (typeof value === 'boolean') builder.pushText(row, String(value));
  else if (value instanceof Date) builder.pushText(row, value.toISOString());
  else if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) builder.pushText(row, LIST_CELL + JSON.stringify(value));
  else builder.pushText(row, JSON.stringify(value));
}

/** A Parquet file (or glob of them) as a columnar table. */
export async function readParquet(pattern: string, key: string, options: ReadOptions): Promise<Table> {
  const { parquetMetadataAsync, parquetRead, parquetSchema } = await load();
  const files = isGlob(pattern) ? expandGlob(pattern, key) : [pattern];
  const builder = new TableBuilder(pattern, options.hint, options.na);
  const limit = options.limit ?? Infinity;
  const starts: number[] = [];
  let first: string[] | undefined;
  for (const file of files) {
    if (builder.size >= limit) break;
    const { buffer, close } = fileBuffer(file, key);
    try {
      let metadata;
      try {
        metadata = await parquetMetadataAsync(buffer);
      } catch (e) {
        throw new DataError(`${file}: not a Parquet file (${(e as Error).message})`, 'check data.format and the file');
      }
      const header = parquetSchema(metadata).children.map((c) => c.element.name);
      if (!first) {
        first = header;
        builder.setHeader(header);
      } else checkShardHeader(files[0], first, file, header);
      starts.push(builder.size);
      const wanted = header.filter((_, i) => builder.builders[i]);
      const base = builder.size;
      let groupStart = 0;
      for (const group of metadata.row_groups) {
        const rows = Number(group.num_rows);
        const take = Math.min(rows, limit - builder.size);
        if (take <= 0) break;
        if (wanted.length) {
          await parquetRead({
            file: buffer,
            metadata,
            columns: wanted,
            rowStart: groupStart,
            rowEnd: groupStart + take,
            onChunk: ({ columnName, columnData, rowStart }) => {
              const column = builder.column(header.indexOf(columnName));
              if (!column) return;
              for (let i = 0; i < columnData.length; i++) {
                const r = rowStart + i;
                if (r >= groupStart && r < groupStart + take) pushCell(column, base + r, (columnData as ArrayLike<unknown>)[i]);
              }
            },
          });
        }
        for (let i = 0; i < take; i++) builder.endRow(groupStart + i + 1);
        groupStart += rows;
      }
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError(`${file}: cannot be read as Parquet (${(e as Error).message})`, 'check the file; it may be truncated or use a codec hyparquet does not read');
    } finally {
      close();
    }
  }
  if (builder.size === 0) throw new DataError(`${pattern}: holds no rows`, 'a Parquet file needs at least one row');
  const table = builder.finish();
  if (files.length > 1 || isGlob(pattern)) table.shards = shardsOf(files.slice(0, starts.length), starts, table.size);
  return table;
}

export async function loadParquetData(config: Config): Promise<LoadedData> {
  const data = config.data as TableDataConfig;
  const na = new MissingValues(new Set(data.na_values));
  const rotation = data.rotation ? data.rotation.target : undefined;
  const hint = columnHints(data, config.tasks, rotation);
  const read = (file: string, key: string, h = hint) => readParquet(file, key, { hint: h, na, limit: data.limit });
  const notes: string[] = [];
  if (data.streaming) notes.push('data: Parquet files are loaded whole (row group by row group); data.streaming reads CSV and JSONL');
  const train = await read(data.path ?? data.splits!.train, data.path ? 'data.path' : 'data.splits.train');
  const val = data.splits?.val ? await read(data.splits.val, 'data.splits.val') : undefined;
  const test = data.splits?.test ? await read(data.splits.test, 'data.splits.test') : undefined;
  // A number column that turns out to be a category keeps its cells' text: JSON-like numbers always give it back.
  releaseDecodedImages();
  try {
    return loadTables(config, data, { train, val, test }, notes, (table) => table);
  } finally {
    releaseDecodedImages();
  }
}

/** Saved preprocessing on a new Parquet file (mtl eval --data, mtl predict). */
export async function parquetWithPreprocessing(
  pre: Preprocessing,
  tasks: Record<string, TaskConfig>,
  file: string,
  options: { requireTargets: boolean; strict: boolean },
): Promise<{ split: Split; unscorable: UnscorableRow[]; notes: string[] }> {
  const table = await readParquet(file, '--data', { hint: savedHints(pre, options.requireTargets ? tasks : {}), na: new MissingValues(new Set(pre.csv!.naValues)) });
  releaseDecodedImages();
  try {
    return applyToTable(pre, tasks, table, options);
  } finally {
    releaseDecodedImages();
  }
}
