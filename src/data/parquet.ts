/**
 * Apache Parquet tables (`format: parquet`), read with hyparquet (plain JavaScript, no
 * native or WebAssembly build, snappy built in; maintained, and the reader the Hugging
 * Face viewer uses) one row group at a time, only the columns the config uses, straight
 * into the column builders: numbers as numbers, strings as codes, null as missing, a
 * list as a multilabel cell. A row's `line` is its 1-based row number in its file. A
 * glob reads the shards in sorted order; every shard must have the first one's columns.
 * Streamed (stream.ts), a file is read by blocks of rows within a row group, each block
 * decoding only the pages that hold its rows.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Config, TableDataConfig, TaskConfig } from '../config/schema';
import { DataError } from '../errors';
import { releaseDecodedImages } from '../inputs/image';
import { LIST_CELL, MISSING_CELL, MissingValues, TableBuilder, type ColumnBuilder, type Table } from './columns';
import { checkShardHeader, shardsOf, type ReadOptions } from './csv';
import type { FilePosition } from './chunked-file';
import { expandGlob, isGlob, statDataFile, unreadable } from './files';
import { applyToTable, columnHints, loadTables, savedHints, targetsRead } from './tabular';
import { LoadNotes } from './notes';
import type { LoadedData, Preprocessing, Split, UnscorableRow } from './types';

type Hyparquet = typeof import('hyparquet', { with: { 'resolution-mode': 'import' } });
type ColumnModule = typeof import('hyparquet/src/column.js', { with: { 'resolution-mode': 'import' } });
type AssembleModule = typeof import('hyparquet/src/assemble.js', { with: { 'resolution-mode': 'import' } });
type ConvertModule = typeof import('hyparquet/src/convert.js', { with: { 'resolution-mode': 'import' } });
type SchemaModule = typeof import('hyparquet/src/schema.js', { with: { 'resolution-mode': 'import' } });
type FileMetaData = import('hyparquet', { with: { 'resolution-mode': 'import' } }).FileMetaData;
type SchemaTree = import('hyparquet', { with: { 'resolution-mode': 'import' } }).SchemaTree;
type ColumnChunk = FileMetaData['row_groups'][number]['columns'][number];
type ColumnDecoder = Parameters<ColumnModule['readColumn']>[2];
type DecodedArray = ReturnType<ColumnModule['readColumn']>['data'][number];
/** A data page: where it starts, its bytes (header included), its first row in the row group. */
interface PageLocation {
  offset: number;
  size: number;
  firstRow: number;
}

/**
 * hyparquet's synchronous parts: the footer parser, the column-chunk decoder and the
 * nested-column assembly. hyparquet is an ES module (loaded once, before the first Parquet
 * file); its own readers are asynchronous, and a streamed epoch reads blocks synchronously.
 */
interface HyparquetParts {
  index: Hyparquet;
  column: ColumnModule;
  assemble: AssembleModule;
  convert: ConvertModule;
  schema: SchemaModule;
}
let loading: Promise<HyparquetParts> | undefined;
let loaded: HyparquetParts | undefined;
export async function loadParquetReader(): Promise<void> {
  loading ??= Promise.all([import('hyparquet'), import('hyparquet/src/column.js'), import('hyparquet/src/assemble.js'), import('hyparquet/src/convert.js'), import('hyparquet/src/schema.js')]).then(
    ([index, column, assemble, convert, schema]) => ({ index, column, assemble, convert, schema }),
  );
  loaded = await loading;
}

/** Whether loadParquetReader has run (the synchronous readers can open files). */
export const parquetReaderLoaded = () => loaded !== undefined;

function readAt(fd: number, start: number, end: number): Uint8Array {
  const out = Buffer.allocUnsafe(Math.max(0, end - start));
  let at = 0;
  while (at < out.length) {
    const n = readSync(fd, out, at, out.length - at, start + at);
    if (n === 0) break;
    at += n;
  }
  return new Uint8Array(out.buffer, out.byteOffset, at);
}

const view = (bytes: Uint8Array) => ({ view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 });

/**
 * One Parquet file read synchronously by row range: its footer once, then for a range of
 * rows within a row group only the pages of each column that hold them (found from the
 * file's offset index, or from the page headers, read once), decoded by hyparquet.
 */
export class ParquetFile {
  readonly header: string[];
  /** Each row group's first row and row count. */
  readonly groups: { start: number; rows: number }[] = [];
  readonly rows: number;
  readonly metadata: FileMetaData;
  private readonly tree: SchemaTree;
  private readonly hp: HyparquetParts;
  private fd: number;
  private readonly pages = new Map<string, PageLocation[] | null>();
  /** Per leaf column, the pages decoded last: the next block in file order mostly lies in them (a scan decodes each page about once). */
  private readonly decoded = new Map<string, { g: number; start: number; end: number; data: DecodedArray[]; skipped: number }>();

  /** The reader must be loaded (loadParquetReader). */
  constructor(
    readonly file: string,
    key: string,
  ) {
    if (!loaded) throw new Error('loadParquetReader() must run before a Parquet file is opened');
    this.hp = loaded;
    const size = statDataFile(file, key);
    if (size === 0) throw new DataError(`${file}: the file is empty (from ${key})`, 'point the config at a file with data');
    try {
      this.fd = openSync(file, 'r');
    } catch (e) {
      throw unreadable(file, e);
    }
    try {
      const tail = readAt(this.fd, Math.max(0, size - 8), size);
      const length = tail.length === 8 ? new DataView(tail.buffer, tail.byteOffset).getUint32(0, true) : 0;
      this.metadata = this.hp.index.parquetMetadata(readAt(this.fd, Math.max(0, size - 8 - length), size));
    } catch (e) {
      this.close();
      throw new DataError(`${file}: not a Parquet file (${(e as Error).message})`, 'check data.format and the file');
    }
    this.tree = this.hp.index.parquetSchema(this.metadata);
    this.header = this.tree.children.map((c) => c.element.name);
    let start = 0;
    for (const group of this.metadata.row_groups) {
      const rows = Number(group.num_rows);
      this.groups.push({ start, rows });
      start += rows;
    }
    this.rows = start;
  }

  /** The row group holding `row`. */
  groupOf(row: number): number {
    let lo = 0;
    let hi = this.groups.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.groups[mid].start <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** About how many bytes a row takes decoded (the row groups' uncompressed size over their rows). */
  bytesPerRow(): number {
    const bytes = this.metadata.row_groups.reduce((n, g) => n + Number(g.total_byte_size), 0);
    return Math.max(8, bytes / Math.max(1, this.rows));
  }

  /**
   * The most rows a data page of any column holds (a column read whole: its row group's
   * rows). A page is decoded whole, so a span of fewer rows decodes it again for the next.
   */
  pageRows(): number {
    let most = 1;
    this.metadata.row_groups.forEach((group, g) => {
      for (const chunk of group.columns) {
        const meta = chunk.meta_data;
        if (!meta || chunk.file_path) continue;
        const schemaPath = this.hp.schema.getTreePath(this.tree, meta.path_in_schema);
        const decoder = { pathInSchema: meta.path_in_schema, element: schemaPath[schemaPath.length - 1].element, schemaPath, type: meta.type, codec: meta.codec, parsers: this.hp.convert.DEFAULT_PARSERS };
        const chunkStart = Number(meta.dictionary_page_offset || meta.data_page_offset);
        const pages = this.pageLocations(g, chunk, decoder, chunkStart, chunkStart + Number(meta.total_compressed_size));
        if (!pages || pages.length === 0) most = Math.max(most, this.groups[g].rows);
        else pages.forEach((p, i) => (most = Math.max(most, (i + 1 < pages.length ? pages[i + 1].firstRow : this.groups[g].rows) - p.firstRow)));
      }
    });
    return most;
  }

  /**
   * Rows [start, end) of one row group into `builder` (the columns it reads), each row's
   * line its 1-based row number in the file.
   */
  read(builder: TableBuilder, start: number, end: number, decode?: { start: number; end: number }): void {
    const g = this.groupOf(start);
    const group = this.groups[g];
    if (end > group.start + group.rows) throw new Error(`rows ${start}-${end} span row groups of ${this.file}`);
    const base = builder.size;
    try {
      builder.header.forEach((name, c) => {
        if (!builder.builders[c]) return;
        const span = decode && decode.start <= start && end <= decode.end ? { from: decode.start - group.start, to: Math.min(decode.end, group.start + group.rows) - group.start } : undefined;
        this.column(g, name, start - group.start, end - group.start, (i, value) => pushCell(builder.column(c)!, base + i, value), span);
      });
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError(`${this.file}: cannot be read as Parquet (${(e as Error).message})`, 'check the file; it may be truncated or use a codec hyparquet does not read');
    }
    for (let r = start; r < end; r++) builder.endRow(r + 1);
  }

  /** Each value of a top-level column for rows [from, to) of row group g, to `visit` (0-based from `from`). */
  private column(g: number, name: string, from: number, to: number, visit: (i: number, value: unknown) => void, span?: { from: number; to: number }): void {
    const child = this.tree.children.find((c) => c.element.name === name)!;
    const chunks = this.metadata.row_groups[g].columns.filter((c) => c.meta_data?.path_in_schema[0] === name);
    if (child.children.length === 0) {
      const { data, skipped } = this.leaf(g, chunks[0], from, to, span);
      let row = skipped;
      for (const page of data) {
        const n = page.length;
        const lo = Math.max(0, from - row);
        const hi = Math.min(n, to - row);
        for (let k = lo; k < hi; k++) visit(row + k - from, page[k]);
        row += n;
        if (row >= to) break;
      }
      return;
    }
    // Lists and structs: the leaves' values cut to the rows, then assembled (as hyparquet's assembleAsync does).
    const leaves = new Map<string, DecodedArray>();
    for (const chunk of chunks) {
      const { data, skipped } = this.leaf(g, chunk, from, to, span);
      leaves.set(chunk.meta_data!.path_in_schema.join('.'), this.hp.index.flatten(data).slice(from - skipped, to - skipped));
    }
    this.hp.assemble.assembleNested(leaves, child, this.hp.convert.DEFAULT_PARSERS);
    const values = leaves.get(name)!;
    for (let i = 0; i < to - from; i++) visit(i, values[i]);
  }

  /** A leaf column chunk's pages that hold rows [from, to), decoded; `skipped`: the row of the first value. */
  /** span: rows of the group to decode on a miss (the blocks read next need them too). */
  private leaf(g: number, chunk: ColumnChunk, from: number, to: number, span?: { from: number; to: number }): { data: DecodedArray[]; skipped: number } {
    const path = chunk.meta_data!.path_in_schema.join('.');
    const last = this.decoded.get(path);
    if (last && last.g === g && last.start <= from && to <= last.end) return last;
    const out = span ? this.decodeLeaf(g, chunk, span.from, span.to) : this.decodeLeaf(g, chunk, from, to);
    this.decoded.set(path, { g, start: out.skipped, end: out.data.reduce((n, d) => n + d.length, out.skipped), ...out });
    return out;
  }

  private decodeLeaf(g: number, chunk: ColumnChunk, from: number, to: number): { data: DecodedArray[]; skipped: number } {
    const meta = chunk.meta_data!;
    if (chunk.file_path) throw new Error('a column chunk in another file (file_path) is not supported');
    const schemaPath = this.hp.schema.getTreePath(this.tree, meta.path_in_schema);
    const decoder: ColumnDecoder = {
      pathInSchema: meta.path_in_schema,
      element: schemaPath[schemaPath.length - 1].element,
      schemaPath,
      type: meta.type,
      codec: meta.codec,
      parsers: this.hp.convert.DEFAULT_PARSERS,
    };
    const chunkStart = Number(meta.dictionary_page_offset || meta.data_page_offset);
    const chunkEnd = chunkStart + Number(meta.total_compressed_size);
    const groupStart = this.groups[g].start;
    const groupRows = this.groups[g].rows;
    const pages = from === 0 && to === groupRows ? undefined : this.pageLocations(g, chunk, decoder, chunkStart, chunkEnd);
    if (!pages || pages.length === 0) return this.hp.column.readColumn(view(readAt(this.fd, chunkStart, chunkEnd)), { groupStart, selectStart: from, selectEnd: to, groupRows }, decoder);
    // The dictionary page (before the first data page) and the data pages that overlap [from, to).
    let first = 0;
    while (first + 1 < pages.length && pages[first + 1].firstRow <= from) first++;
    let last = first;
    while (last + 1 < pages.length && pages[last + 1].firstRow < to) last++;
    const dataStart = pages[first].offset;
    const dataEnd = pages[last].offset + pages[last].size;
    const dictionary = pages[0].offset > chunkStart ? readAt(this.fd, chunkStart, pages[0].offset) : undefined;
    const data = readAt(this.fd, dataStart, dataEnd);
    let bytes = data;
    if (dictionary) {
      bytes = new Uint8Array(dictionary.length + data.length);
      bytes.set(dictionary);
      bytes.set(data, dictionary.length);
    }
    const skipped = pages[first].firstRow;
    const out = this.hp.column.readColumn(view(bytes), { groupStart: groupStart + skipped, selectStart: from - skipped, selectEnd: to - skipped, groupRows }, decoder);
    return { data: out.data, skipped: skipped + out.skipped };
  }

  /**
   * The data pages of a column chunk: from the offset index when the file has one, else
   * from the page headers (flat columns: a page's values are its rows); null for a nested
   * column without an offset index (read whole).
   */
  private pageLocations(g: number, chunk: ColumnChunk, decoder: ColumnDecoder, chunkStart: number, chunkEnd: number): PageLocation[] | null {
    const key = `${g}/${decoder.pathInSchema.join('.')}`;
    const known = this.pages.get(key);
    if (known !== undefined) return known;
    let pages: PageLocation[] | null = null;
    if (chunk.offset_index_offset !== undefined && chunk.offset_index_length) {
      const start = Number(chunk.offset_index_offset);
      pages = this.hp.index.readOffsetIndex(view(readAt(this.fd, start, start + chunk.offset_index_length))).page_locations.map((p) => ({ offset: Number(p.offset), size: p.compressed_page_size, firstRow: Number(p.first_row_index) }));
    } else if (this.hp.schema.isFlatColumn(decoder.schemaPath)) {
      pages = [];
      let rows = 0;
      for (let at = chunkStart; at < chunkEnd; ) {
        const { header, length } = this.pageHeader(at, chunkEnd);
        if (header.type === 'DATA_PAGE' || header.type === 'DATA_PAGE_V2') {
          pages.push({ offset: at, size: length, firstRow: rows });
          rows += header.type === 'DATA_PAGE' ? header.data_page_header!.num_values : header.data_page_header_v2!.num_rows;
        }
        at += length;
      }
    }
    this.pages.set(key, pages);
    return pages;
  }

  /** The page header at `at` and the page's length with it (headers are small: read a few KB, more when one is larger). */
  private pageHeader(at: number, end: number): { header: ReturnType<ColumnModule['parquetHeader']>; length: number } {
    for (let window = Math.min(4096, end - at); ; window = Math.min(window * 8, end - at)) {
      const reader = view(readAt(this.fd, at, at + window));
      try {
        const header = this.hp.column.parquetHeader(reader);
        return { header, length: reader.offset + header.compressed_page_size };
      } catch (e) {
        if (!(e instanceof RangeError) || window >= end - at) throw e;
      }
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.decoded.clear();
  }
}

/** A Parquet file read a block of rows at a time (streaming): blocks never span row groups. */
export class ParquetRowReader {
  private row = 0;
  constructor(readonly parquet: ParquetFile) {}

  get header(): string[] {
    return this.parquet.header;
  }
  /** `offset` and `line` are both the next row's index. */
  position(): FilePosition {
    return { offset: this.row, line: this.row };
  }
  seek(position: FilePosition): void {
    this.row = position.offset;
  }
  /** Up to `max` rows, to the end of the current row group; 0 at the end of the file. `decode`: rows to decode with them (their span). */
  read(builder: TableBuilder, max: number, decode?: { start: number; end: number }): number {
    const { parquet } = this;
    if (this.row >= parquet.rows || max <= 0) return 0;
    const group = parquet.groups[parquet.groupOf(this.row)];
    const end = Math.min(this.row + max, group.start + group.rows);
    parquet.read(builder, this.row, end, decode);
    const n = end - this.row;
    this.row = end;
    return n;
  }
  close(): void {
    this.parquet.close();
  }
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

/** A Parquet file (or glob of them) as a columnar table, row group by row group. */
export async function readParquet(pattern: string, key: string, options: ReadOptions): Promise<Table> {
  await loadParquetReader();
  const files = isGlob(pattern) ? expandGlob(pattern, key) : [pattern];
  const builder = new TableBuilder(pattern, options.hint, options.na);
  const limit = options.limit ?? Infinity;
  const starts: number[] = [];
  let first: string[] | undefined;
  for (const file of files) {
    if (builder.size >= limit) break;
    const parquet = new ParquetFile(file, key);
    try {
      if (!first) {
        first = parquet.header;
        builder.setHeader(parquet.header);
      } else checkShardHeader(files[0], first, file, parquet.header);
      starts.push(builder.size);
      builder.reserve(Math.min(limit, builder.size + parquet.rows));
      for (const group of parquet.groups) {
        const take = Math.min(group.rows, limit - builder.size);
        if (take <= 0) break;
        parquet.read(builder, group.start, group.start + take);
      }
    } finally {
      parquet.close();
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
  const notes = new LoadNotes();
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
  const table = await readParquet(file, '--data', { hint: savedHints(pre, targetsRead(tasks, options)), na: new MissingValues(new Set(pre.csv!.naValues)) });
  releaseDecodedImages();
  try {
    const { split, unscorable, notes } = applyToTable(pre, tasks, table, options);
    return { split, unscorable, notes: notes.lines() };
  } finally {
    releaseDecodedImages();
  }
}
