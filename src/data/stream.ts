/**
 * Streamed tables (data.streaming, or data files, or their images decoded, larger than
 * data.memory_budget): the rows stay on disk and are read in blocks of rows, so memory
 * holds a few blocks and a shuffle buffer whatever the size of the files. An image
 * folder is a table too: its listing (a path and a class a file) is held and read as a
 * file of rows is (ImageFolderRows), its images decoded into the disk cache.
 *
 * Loading makes two passes over the train file(s): the first counts the rows (and reads
 * what the split needs: the stratify and group columns, and the short form's columns to
 * detect their types) and records where each block starts; every row is then assigned
 * to train, val or test exactly as the in-memory loader assigns it (same seed, same
 * split). The second pass checks every row and fits the preprocessing on the train rows
 * (numbers: the same mean, the spread in one pass; categories, vocabularies and classes:
 * the same counts). Each epoch then reads the blocks in a seeded order and passes the
 * train rows through a seeded shuffle buffer (`data.shuffle_buffer` rows) into batches;
 * val and test are read in file order for each evaluation.
 */
import type { Config, ImageFolderDataConfig, InputConfig, TableDataConfig, TaskConfig } from '../config/schema';
import { memoryBytes } from '../config/schema';
import { DataError } from '../errors';
import { CellError, inputType, type InputSpec } from '../inputs';
import { releaseDecodedImages, usePixelCache } from '../inputs/image';
import type { InputFitter } from '../inputs/types';
import { sampleSize } from './batches';
import type { FilePosition } from './chunked-file';
import { MissingValues, NumberColumn, StringColumn, TableBuilder, fileOf, type ColumnHint, type Table } from './columns';
import { statSync, openSync, readSync, closeSync } from 'node:fs';
import { checkShardHeader, columnIndex, readColumns, type TableFormat } from './csv';
import { CsvReader } from './csv-reader';
import { expandGlob, isGlob } from './files';
import { HeapGuard } from './heap-guard';
import { emptyCellsNote, LoadNotes } from './notes';
import { anyFeatureMissing, checkFrame, encodeParts, featureMissing, frameOf, labelSets, targetColumns, targetMissing, type Frame, type Part } from './frame';
import { JsonlReader } from './jsonl';
import { loadParquetReader, ParquetFile, ParquetRowReader, parquetReaderLoaded } from './parquet';
import { decodeImageFile } from './image-files';
import { ImageFolderRows, listImageFolder, listingBytesPerRow } from './image-folder';
import { peekIdx } from './idx';
import path from 'node:path';
import { deriveSeed, permutation, Rng } from './rng';
import { rotationAngle } from './rotation';
import { carveFractions, splitFlags, type Fractions } from './split';
import {
  applyToTable,
  asTable,
  checkCategorical,
  checkNumericCells,
  classNames,
  columnHints,
  delimiterOf,
  distinctLabels,
  inputColumns,
  rotationInput,
  savedHints,
  tableFormatOf,
  targetsRead,
  unlabelledRows,
  wordCount,
  type TableData,
} from './tabular';
import { checkClasses, classWeightsFromCounts, describeWeights, multilabelLabels, positiveWeightsFromCounts } from './targets';
import type { LoadedData, Preprocessing, Split, SplitStream, TargetTransform, UnscorableRow } from './types';

const STREAM_STREAM = 0x53544d;

/** The bytes of the data files a table config reads (globs: every match); an image folder's none (its list of paths is small, its images are counted decoded). */
export function dataBytes(data: TableData): number {
  if (data.format === 'image_folder') return 0;
  const files = [data.path, data.splits?.train, data.splits?.val, data.splits?.test].filter((f): f is string => f !== undefined);
  let total = 0;
  for (const f of files) {
    try {
      for (const file of isGlob(f) ? expandGlob(f, 'data.path') : [f]) total += statBytes(file);
    } catch {
      // A missing file is reported by the reader.
    }
  }
  return total;
}

function statBytes(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** Whether to stream, and the log line that says why. */
export function streamingChoice(config: Config): { stream: boolean; note?: string } {
  if (config.data.format === 'idx') return idxStreamingChoice(config.data);
  const data = asTable(config.data);
  if (data.streaming === false) return { stream: false };
  // Configs saved before memory_budget existed (resumed runs) have none: the default.
  const budget = memoryBytes(data.memory_budget ?? '4GB');
  if (data.streaming === true) return { stream: true, note: `data: streaming from disk (data.streaming: true), within a memory budget of ${mb(budget)}` };
  const bytes = dataBytes(data);
  if (bytes > budget) return { stream: true, note: `data: the data files hold ${mb(bytes)}, more than data.memory_budget (${mb(budget)}): streaming them from disk (set data.streaming: false to load them whole)` };
  const images = decodedImages(data);
  if (!images || images.bytes <= budget) return { stream: false };
  return {
    stream: true,
    note: `data: decoded, the images would take about ${mb(images.bytes)} (${images.rows} ${data.format === 'image_folder' ? 'images' : 'rows'} of ${images.shapes.join(' + ')} float32 pixels), more than data.memory_budget (${mb(budget)}): streaming them from disk, each decoded once into a disk cache (set data.streaming: false to load them whole)`,
  };
}

/** IDX images stream when, decoded to float32, they would take more than the budget. */
function idxStreamingChoice(data: Extract<Config['data'], { format: 'idx' }>): { stream: boolean; note?: string } {
  if (data.streaming === false) return { stream: false };
  const budget = memoryBytes(data.memory_budget ?? '4GB');
  if (data.streaming === true) return { stream: true, note: `data: images read from disk (data.streaming: true), within a memory budget of ${mb(budget)}` };
  const files = [data.images, data.splits?.train.images, data.splits?.val?.images, data.splits?.test?.images].filter((f): f is string => f !== undefined);
  let images = 0;
  let bytes = 0;
  let shape = '';
  for (const file of files) {
    const idx = idxImages(file, data.limit);
    if (!idx) continue;
    images += idx.images;
    bytes += idx.bytes;
    shape ||= idx.shape;
  }
  if (bytes <= budget) return { stream: false };
  return { stream: true, note: `data: decoded, the images would take ${mb(bytes)} (${images} images of ${shape} float32 pixels), more than data.memory_budget (${mb(budget)}): reading them from disk a block at a time (set data.streaming: false to load them whole)` };
}

/** The images of an IDX file (the first `limit`) and the bytes they take decoded to float32; undefined when it is not an images file (the reader says why). */
function idxImages(file: string, limit: number | undefined): { images: number; bytes: number; shape: string } | undefined {
  const idx = peekIdx(file);
  if (!idx || idx.dims.length < 3) return undefined;
  const images = Math.min(idx.dims[0], limit ?? Infinity);
  return { images, bytes: 4 * images * idx.dims.slice(1).reduce((a, b) => a * b, 1), shape: idx.dims.slice(1).join('x') };
}

/** A table's rows: counted (Parquet, from the footers: the reader must be loaded; an image folder, its files), else about (the bytes per row of the first 64 KB, less a CSV header per file). */
function tableRows(files: string[], key: string, format: TableFormat): { rows: number; estimated: boolean } {
  if (format === 'image_folder') return { rows: listImageFolder(files[0], key).length, estimated: false };
  if (format === 'parquet') {
    let rows = 0;
    for (const file of files) {
      const parquet = new ParquetFile(file, key);
      try {
        rows += parquet.rows;
      } finally {
        parquet.close();
      }
    }
    return { rows, estimated: false };
  }
  const perRow = bytesPerRow(files[0], key, format);
  return { rows: Math.max(1, Math.round(files.reduce((n, f) => n + statBytes(f), 0) / perRow) - (format === 'csv' ? files.length : 0)), estimated: true };
}

/**
 * About how much memory the decoded images of a table take: its rows (estimated from the
 * bytes per row of the first 64 KB; Parquet and image folders: counted; at most
 * data.limit) times each image input's float32 size (its `size` and `channels`, or the
 * first row's image). Undefined without image inputs, or when the files cannot be read
 * (the loader then says why).
 */
function decodedImages(data: TableData): { bytes: number; rows: number; shapes: string[] } | undefined {
  const images = (data.inputs ?? []).filter((input): input is InputConfig & { type: 'image' } => input.type === 'image');
  if (images.length === 0) return undefined;
  const pattern = data.path ?? data.splits?.train;
  if (!pattern) return undefined;
  try {
    const files = data.format !== 'image_folder' && isGlob(pattern) ? expandGlob(pattern, 'data.path') : [pattern];
    let first: Table | undefined;
    const hint = (name: string) => (images.some((i) => i.name === name) ? ('string' as const) : undefined);
    const na = new MissingValues(new Set(data.na_values));
    if (data.format === 'parquet' && !parquetReaderLoaded()) return undefined;
    const rows = Math.min(tableRows(files, 'data.path', data.format).rows, data.limit ?? Infinity);
    if (data.format === 'parquet') {
      for (const file of files) {
        const parquet = new ParquetFile(file, 'data.path');
        try {
          if (parquet.rows > 0) {
            const builder = new TableBuilder(file, hint, na);
            builder.setHeader(parquet.header);
            parquet.read(builder, 0, 1);
            first = builder.finish();
            break;
          }
        } finally {
          parquet.close();
        }
      }
    } else {
      first = readColumns(files[0], 'data.path', data.format, delimiterOf(data), { hint, na, limit: 1 });
    }
    const shapes = images.map((input) => {
      let [height, width] = input.size ?? [0, 0];
      let channels: number = input.channels ?? 0;
      if (!height || !channels) {
        const column = first!.columns[first!.header.indexOf(input.name)]!;
        const image = decodeImageFile(path.resolve(path.dirname(files[0]), column.text(0)));
        [height, width] = input.size ?? [image.height, image.width];
        channels ||= image.channels;
      }
      return [height, width, channels];
    });
    const shapeBytes = shapes.reduce((n, [h, w, c]) => n + 4 * h * w * c, 0);
    return { bytes: rows * shapeBytes, rows, shapes: shapes.map((shape) => shape.join('x')) };
  } catch {
    return undefined;
  }
}

/** Bytes as the logs write them. */
export const mb = (bytes: number) =>
  bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GB` : bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0)} MB` : `${(bytes / 2 ** 10).toFixed(1)} KB`;

/** Where a block of rows starts: its shard, the byte offset and line there, and its first row's index in the source. */
interface Block {
  shard: number;
  position: FilePosition;
  first: number;
  rows: number;
  /** Rows of each part (train, val, test) kept after the drops. */
  kept: [number, number, number];
  /** Parquet: the row group holding the block. */
  group?: number;
  /** The blocks of one span are read one after another in an epoch; its rows (in the shard) are decoded together. */
  span: number;
  decode?: { start: number; end: number };
}

/**
 * Spans of consecutive Parquet blocks within one row group, of up to `spanRows` rows: an
 * epoch reads the blocks of a span one after another (in a seeded order), so the pages
 * they share are decoded once, not once a block. Other formats: a span a block.
 */
function assignSpans(source: Source, spanRows: number): void {
  let span = -1;
  let rows = 0;
  let start = 0;
  for (let i = 0; i < source.blocks.length; i++) {
    const b = source.blocks[i];
    const prev = source.blocks[i - 1];
    if (!prev || source.format !== 'parquet' || prev.shard !== b.shard || prev.group !== b.group || rows + b.rows > spanRows) {
      span++;
      rows = 0;
      start = i;
    }
    b.span = span;
    rows += b.rows;
    if (source.format === 'parquet') for (let j = start; j <= i; j++) source.blocks[j].decode = { start: source.blocks[start].position.offset, end: b.position.offset + b.rows };
  }
}

/** The order an epoch reads blocks in: the spans in a seeded order, the blocks of each span in one of their own (one block a span: a seeded permutation of the blocks). */
function epochOrder(spans: number[], seed: number): Uint32Array {
  const starts: number[] = [];
  spans.forEach((span, i) => {
    if (i === 0 || span !== spans[i - 1]) starts.push(i);
  });
  starts.push(spans.length);
  const out = new Uint32Array(spans.length);
  let k = 0;
  for (const s of permutation(starts.length - 1, seed)) {
    const size = starts[s + 1] - starts[s];
    if (size === 1) out[k++] = starts[s];
    else for (const j of permutation(size, deriveSeed(seed, 2, s))) out[k++] = starts[s] + j;
  }
  return out;
}

/** One file or glob read in blocks: its shards, header and blocks. */
class Source {
  files: string[];
  header: string[] = [];
  blocks: Block[] = [];
  size = 0;
  private readonly builders = new Map<(name: string) => ColumnHint | undefined, TableBuilder>();
  /** An image folder: its files as rows of [path, class] (read as a file of one shard is). */
  private readonly listing?: string[][];
  /** Explicit val/test files: every row is in this part. */
  constructor(
    readonly pattern: string,
    readonly key: string,
    readonly format: TableFormat,
    readonly delimiter: string,
    readonly limit: number,
    private readonly sized: Pick<Sizing, 'chunkBytes' | 'heap'>,
    readonly part?: 1 | 2,
  ) {
    if (format === 'image_folder') this.listing = listImageFolder(pattern, key);
    this.files = format !== 'image_folder' && isGlob(pattern) ? expandGlob(pattern, key) : [pattern];
  }

  get heap(): HeapGuard {
    return this.sized.heap;
  }

  open(shard: number): ShardReader {
    const file = this.files[shard];
    if (this.listing) {
      const reader = new ImageFolderRows(this.listing);
      return { reader, header: reader.header, read: (b, max) => reader.read(b, max) };
    }
    if (this.format === 'parquet') {
      const reader = new ParquetRowReader(new ParquetFile(file, this.key));
      return { reader, header: reader.header, read: (b, max, _fixed, decode) => reader.read(b, max, decode), group: (p) => reader.parquet.groupOf(p.offset) };
    }
    if (this.format === 'jsonl') {
      const reader = new JsonlReader(file, this.key, this.sized.chunkBytes);
      return { reader, header: undefined, read: (b, max, fixed) => reader.read(b, max, fixed) };
    }
    const reader = new CsvReader(file, this.key, this.delimiter, this.sized.chunkBytes);
    const header = reader.readHeader();
    return { reader, header, read: (b, max) => reader.read(b, max) };
  }

  /** A block as a table (its columns by `hint`). */
  readBlock(block: Block, hint: (name: string) => ColumnHint | undefined, na: MissingValues, readers: Map<number, ShardReader>): Table {
    this.sized.heap.check();
    let reader = readers.get(block.shard);
    if (!reader) readers.set(block.shard, (reader = this.open(block.shard)));
    reader.reader.seek(block.position);
    // One builder for every block: its columns' storage is reused (the block's table is used up before the next is read).
    let builder = this.builders.get(hint);
    if (!builder) {
      this.builders.set(hint, (builder = new TableBuilder(this.files[block.shard], hint, na)));
      builder.setHeader(this.header);
    }
    builder.reset(this.files[block.shard]);
    builder.reserve(block.rows);
    reader.read(builder, block.rows, true, block.decode);
    if (builder.size !== block.rows) throw new DataError(`${this.files[block.shard]}: the file changed while it was read (a block of ${block.rows} rows from line ${block.position.line + 1} now holds ${builder.size})`, 'do not change the data files during a run; restart it');
    return builder.finish(true);
  }
}

interface ShardReader {
  reader: CsvReader | JsonlReader | ParquetRowReader | ImageFolderRows;
  /** Parquet: the row group of a position. */
  group?(position: FilePosition): number;
  header: string[] | undefined;
  /** fixed: only the builder's columns (JSONL: keys not seen in the first pass are ignored). */
  read(builder: TableBuilder, max: number, fixed: boolean, decode?: { start: number; end: number }): number;
}

/**
 * Reads every block of a source in order (the first pass records them): `visit` gets
 * each block's table and its first row's index.
 */
function scan(source: Source, hint: (name: string) => ColumnHint | undefined, na: MissingValues, blockRows: number, record: boolean, visit: (table: Table, first: number, block: Block) => void): void {
  for (const { table, first, block } of scanBlocks(source, hint, na, blockRows, record)) visit(table, first, block);
}

/** scan's blocks one at a time (a table is a view of storage the next block reuses). */
function* scanBlocks(source: Source, hint: (name: string) => ColumnHint | undefined, na: MissingValues, blockRows: number, record: boolean): Generator<{ table: Table; first: number; block: Block }> {
  let row = 0;
  let b = 0;
  let builder: TableBuilder | undefined;
  for (let shard = 0; shard < source.files.length && row < source.limit; shard++) {
    const reader = source.open(shard);
    try {
      if (reader.header) {
        if (shard === 0 && record) source.header = reader.header;
        else checkShardHeader(source.files[0], source.header, source.files[shard], reader.header);
      }
      let rowsInShard = 0;
      for (;;) {
        const position = reader.reader.position();
        if (!builder) {
          builder = new TableBuilder(source.files[shard], hint, na);
          builder.setHeader(source.header);
        }
        builder.reset(source.files[shard]);
        source.heap.check();
        const want = Math.min(blockRows, source.limit - row);
        if (want <= 0) break;
        const n = reader.read(builder, want, !record);
        if (source.format === 'jsonl' && record) source.header = builder.header.slice();
        if (n === 0) break;
        rowsInShard += n;
        const block: Block = record ? { shard, position, first: row, rows: n, kept: [0, 0, 0], group: reader.group?.(position), span: source.blocks.length } : source.blocks[b];
        if (record) source.blocks.push(block);
        b++;
        yield { table: builder.finish(true), first: row, block };
        row += n;
      }
      if (rowsInShard === 0 && source.format === 'csv') throw new DataError(`${source.files[shard]}: has a header but no data rows`, 'add data rows below the header');
    } finally {
      reader.reader.close();
    }
  }
  if (record) source.size = row;
  if (row === 0 && source.format === 'parquet') throw new DataError(`${source.pattern}: holds no rows`, 'a Parquet file needs at least one row');
  if (row === 0) throw new DataError(`${source.pattern}: holds no JSON objects`, 'a JSONL file needs one JSON object per line');
}

/** Per part, the rows of a block that are kept: its split, then the drops (recorded in `notes` when given). */
function keptParts(frame: Frame, flags: Uint8Array | undefined, constPart: number | undefined, policy: { unlabelled: (f: Frame) => (r: number) => boolean; why: string; dropMissing: boolean }, notes?: LoadNotes): number[][] {
  const parts: number[][] = [[], [], []];
  const first = frame.firstIndex;
  for (let r = 0; r < frame.table.size; r++) parts[constPart ?? flags![first + r]].push(r);
  // Dropped rows are noted in file order (the notes list the first lines of each file).
  const drop = (all: number[][], test: (r: number) => boolean, why: string) => {
    const dropped: number[] = [];
    const kept = all.map((rows) =>
      rows.filter((r) => {
        if (!test(r)) return true;
        dropped.push(r);
        return false;
      }),
    );
    for (const r of dropped.sort((a, b) => a - b)) notes?.dropped(fileOf(frame.table, r), why, [frame.table.lines[r]]);
    return kept;
  };
  let out = drop(parts, policy.unlabelled(frame), policy.why);
  if (policy.dropMissing) out = drop(out, anyFeatureMissing(frame), 'missing values (set data.missing: impute to keep them)');
  return out;
}

interface Sizing {
  blockRows: number;
  bufferRows: number;
  chunkBytes: number;
  /** Collects the garbage of reading blocks once it reaches the budget (at least 32 MB: below that, collections cost more than the reading). */
  heap: HeapGuard;
}

/** Rows a block and the shuffle buffer hold within the budget: a quarter for blocks (read and encoded), half for the buffer. */
export function sizing(budget: number, bytesPerRow: number, encodedRowBytes: number, shuffleBuffer: number | undefined): Sizing {
  const chunkBytes = Math.max(1 << 16, Math.min(1 << 22, Math.floor(budget / 16)));
  const blockRows = Math.max(64, Math.min(1 << 16, Math.floor((budget * 0.25) / (3 * bytesPerRow + encodedRowBytes))));
  const bufferRows = shuffleBuffer ?? Math.max(blockRows, Math.floor((budget * 0.5) / encodedRowBytes));
  // Blocks of at most an eighth of the buffer: it mixes rows of at least eight places in the files.
  return { blockRows: Math.min(blockRows, Math.max(64, Math.floor(bufferRows / 8))), bufferRows, chunkBytes, heap: new HeapGuard(Math.max(budget, 32 * 2 ** 20)) };
}

/** The most rows a Parquet data page of the (first) file holds: the least a span should decode. 1 for other formats. */
function pageRows(file: string, key: string, format: TableFormat): number {
  if (format !== 'parquet') return 1;
  const parquet = new ParquetFile(isGlob(file) ? expandGlob(file, key)[0] : file, key);
  try {
    return parquet.pageRows();
  } finally {
    parquet.close();
  }
}

/** About how many bytes a row takes in the file, from its first 64 KB (Parquet: decoded, from its footer; an image folder: its listing's). */
function bytesPerRow(file: string, key: string, format: TableFormat): number {
  if (format === 'image_folder') return listingBytesPerRow(listImageFolder(file, key));
  const first = isGlob(file) ? expandGlob(file, key)[0] : file;
  if (format === 'parquet') {
    const parquet = new ParquetFile(first, key);
    try {
      return parquet.bytesPerRow();
    } finally {
      parquet.close();
    }
  }
  let fd: number;
  try {
    fd = openSync(first, 'r');
  } catch {
    return 64;
  }
  try {
    const buf = Buffer.alloc(1 << 16);
    const n = readSync(fd, buf, 0, buf.length, 0);
    let lines = 0;
    for (let i = 0; i < n; i++) if (buf[i] === 10) lines++;
    return Math.max(8, n / Math.max(1, lines));
  } finally {
    closeSync(fd);
  }
}

/** Loads a table config (an image folder's included: its listing read as a file) as streamed splits. */
export async function loadStreamed(config: Config, why: string): Promise<LoadedData> {
  const data = asTable(config.data as TableDataConfig | ImageFolderDataConfig);
  const format = data.format;
  if (format === 'parquet') await loadParquetReader();
  const budget = memoryBytes(data.memory_budget ?? '4GB');
  const na = new MissingValues(new Set(data.na_values));
  const notes: string[] = [why];
  const tasks = config.tasks;
  const seed = config.seed;
  const rotation = data.rotation ? { ...data.rotation, seed: data.split.seed ?? config.seed } : undefined;
  const delimiter = delimiterOf(data);
  const limit = data.limit ?? Infinity;
  const trainPattern = data.path ?? data.splits!.train;
  const trainKey = data.path ? 'data.path' : 'data.splits.train';
  // A first guess of the block size (the encoded width is not known yet: a few floats a column).
  const perRow = bytesPerRow(trainPattern, trainKey, format);
  let size = sizing(budget, perRow, perRow * 2, data.shuffle_buffer);
  const train = new Source(trainPattern, trainKey, format, delimiter, limit, size);
  const explicit = (file: string | undefined, key: string, part: 1 | 2) => (file ? new Source(file, key, format, delimiter, limit, size, part) : undefined);
  const valSource = explicit(data.splits?.val, 'data.splits.val', 1);
  const testSource = explicit(data.splits?.test, 'data.splits.test', 2);

  // Pass 1: count rows, record blocks, read what the split and the type detection need.
  const firstHint = columnHints(data, tasks, rotation?.target);
  const detecting = !data.inputs;
  const stratify = data.split.stratify;
  const group = data.split.group;
  const passOneHint = (name: string): ColumnHint | undefined => {
    const h = firstHint(name);
    if (h === 'auto' && detecting) return 'auto';
    if (stratify && name === (tasks[stratify]?.target as string)) return 'string';
    if (group && name === group) return 'string';
    return undefined;
  };
  const words = new Map<string, { present: number; words: number }>();
  const strata: (string | null)[] = [];
  const groups: string[] = [];
  scan(train, passOneHint, na, size.blockRows, true, (table) => {
    table.header.forEach((name, i) => {
      const column = table.columns[i];
      if (!column || passOneHint(name) !== 'auto') return;
      const c = wordCount(column, table.size);
      const sum = words.get(name) ?? { present: 0, words: 0 };
      words.set(name, { present: sum.present + c.present, words: sum.words + c.words });
    });
    if (stratify) {
      const t = tasks[stratify];
      const column = table.columns[table.header.indexOf(t.target as string)];
      if (column) for (let r = 0; r < table.size; r++) strata.push(column.missing(r) ? null : column.text(r));
    }
    if (group) {
      const i = table.header.indexOf(group);
      if (i < 0) return;
      const column = table.columns[i]!;
      for (let r = 0; r < table.size; r++) {
        if (column.missing(r)) throw new DataError(`${fileOf(table, r)}:${table.lines[r]}: column "${group}" (data.split.group) is missing`, 'every row needs its group to be split; fill it in or drop the row');
        groups.push(column.text(r));
      }
    }
  });
  const features = inputColumns(data, () => train.header, tasks);
  if (features.length === 0) throw new DataError(`${train.pattern}: no feature columns left besides the targets`, 'add feature columns or list them in data.features');
  if (group) columnIndex({ file: train.pattern, header: train.header }, group, 'data.split.group');
  for (const s of [valSource, testSource]) if (s) scan(s, () => undefined, na, size.blockRows, true, () => undefined);

  const fractions: Fractions = data.path ? data.split : carveFractions(data.split, !!valSource, !!testSource);
  const flags = splitFlags(train.size, fractions, data.split.seed ?? seed, train.pattern, { strata: stratify ? strata : undefined, groups: group ? groups : undefined });
  strata.length = 0;
  groups.length = 0;

  // The inputs, typed: given, or detected from the whole train file.
  let inputs: InputConfig[];
  if (data.inputs) inputs = data.inputs;
  else {
    checkCategorical(features, data.categorical);
    inputs = features.map((name) => {
      const c = words.get(name) ?? { present: 0, words: 0 };
      const category = data.categorical ? data.categorical.includes(name) : c.words * 2 > c.present;
      return category ? { name, type: 'category', encoder: 'one_hot', dim: 8 } : { name, type: 'numeric' };
    });
  }
  const hint = columnHints({ ...data, inputs, features: undefined }, tasks, rotation?.target);
  const featureKey = data.inputs ? 'data.inputs' : data.features ? 'data.features' : 'the header';
  const taskCount = Object.keys(tasks).length;
  const policy = {
    unlabelled: unlabelledRows(data.missing_targets),
    why: data.missing_targets === 'drop' || taskCount === 1 ? 'a missing target' : 'no target of any task',
    dropMissing: data.missing === 'drop',
  };
  const emptyMissing = inputs.map((input) => inputType(input.type).readsMissingAsEmpty === true);
  if (inputs.some((input) => input.type === 'image')) notes.push(`data: decoded images are kept on disk (${usePixelCache().file}), read back by offset each epoch instead of decoded again`);
  const frameFor = (table: Table, first: number) => {
    const frame = frameOf(table, features, tasks, featureKey, rotation, first);
    checkFrame(frame);
    frame.emptyMissing = emptyMissing.slice();
    return frame;
  };

  // Pass 2: check every row, fit the preprocessing on the train rows.
  const drops = new LoadNotes();
  const fitters: (InputFitter<unknown> | undefined)[] = inputs.map(() => undefined);
  const firstPresent: ({ file: string; line: number } | undefined)[] = inputs.map(() => undefined);
  const emptyCounts = inputs.map(() => 0);
  const targetStats = new TargetStats(tasks, rotation);
  const lacking = new Map<string, number>();
  let imputed = 0;
  const fitOptions = (input: InputConfig) => (input.type === 'numeric' ? { standardize: input.standardize ?? data.standardize } : input);
  const visit = (constPart?: number) => (table: Table, first: number, block: Block) => {
    const frame = frameFor(table, first);
    if (!constPart) targetStats.addSource(frame);
    // Text inputs' missing cells read as empty: counted before the drops of missing values.
    const preDrop = keptParts(frame, flags, constPart, { ...policy, dropMissing: false });
    inputs.forEach((_, f) => {
      if (emptyMissing[f]) for (const rows of preDrop) for (const r of rows) if (frame.features[f].missing(r)) emptyCounts[f]++;
    });
    checkNumericCells(preDrop.map((rows) => ({ frame, rows })), inputs, !data.inputs);
    const parts = keptParts(frame, flags, constPart, policy, drops);
    block.kept = [parts[0].length, parts[1].length, parts[2].length];
    if (data.missing === 'impute') {
      const missing = anyFeatureMissing(frame);
      for (const rows of parts) for (const r of rows) if (missing(r)) imputed++;
    }
    if (constPart) return;
    const trainRows = parts[0];
    for (const t of frame.tasks) {
      const missing = targetMissing(t);
      let n = 0;
      for (const r of trainRows) if (missing(r)) n++;
      lacking.set(t.name, (lacking.get(t.name) ?? 0) + n);
    }
    targetStats.addTrain(frame, trainRows);
    inputs.forEach((input, f) => {
      const column = frame.features[f];
      const present = emptyMissing[f] ? trainRows : trainRows.filter((r) => !featureMissing(frame, f, r));
      if (present.length === 0) return;
      if (!fitters[f]) {
        firstPresent[f] = { file: fileOf(table, present[0]), line: table.lines[present[0]] };
        const type = inputType(input.type);
        fitters[f] = type.fitter ? type.fitter(fitOptions(input), { file: firstPresent[f]!.file, lines: [] }) : collectingFitter(input, firstPresent[f]!.file);
      }
      const fitter = fitters[f]!;
      try {
        if (fitter.addValue && column instanceof NumberColumn) for (const r of present) fitter.addValue(column.values[r]);
        else if (column instanceof StringColumn && !emptyMissing[f]) {
          const perCode = new Map<number, number>();
          for (const r of present) perCode.set(column.codes[r], (perCode.get(column.codes[r]) ?? 0) + 1);
          for (const [code, count] of perCode) fitter.add(column.strings[code], count);
        } else for (const r of present) fitter.add(column.missing(r) ? '' : column.text(r));
      } catch (e) {
        if (e instanceof CellError) throw new DataError(`${firstPresent[f]!.file}:${firstPresent[f]!.line}: column "${input.name}" ${e.message}`, e.hint);
        throw e;
      }
    });
  };
  scan(train, hint, na, size.blockRows, false, visit());
  if (valSource) scan(valSource, hint, na, size.blockRows, false, visit(1));
  if (testSource) scan(testSource, hint, na, size.blockRows, false, visit(2));

  const sum = (s: Source | undefined, part: number) => (s ? s.blocks.reduce((n, b) => n + b.kept[part], 0) : 0);
  const trainSize = sum(train, 0);
  notes.push(...drops.lines());
  inputs.forEach((input, f) => {
    if (emptyCounts[f]) notes.push(emptyCellsNote(input.name, input.type, emptyCounts[f]));
  });
  if (trainSize === 0) {
    throw new DataError(`${train.pattern}: no train rows are left after dropping rows with missing values (${train.size} rows in the file)`, 'fill in the missing cells, or set data.missing: impute and data.missing_targets: mask');
  }
  if (data.missing_targets === 'mask' && taskCount > 1) {
    for (const [task, n] of lacking) if (n) notes.push(`task ${task}: ${n} of ${trainSize} train rows lack its label; its loss and metrics use the ${trainSize - n} that have it`);
  }
  const specs: InputSpec[] = inputs.map((input, f) => {
    const fitter = fitters[f];
    if (!fitter || fitter.count === 0) throw new DataError(`${train.pattern}: column "${input.name}" has no values in the train split (all missing)`, 'drop it from the inputs, or fill it in');
    let state: unknown;
    try {
      state = fitter.finish();
    } catch (e) {
      if (e instanceof CellError) throw new DataError(`${firstPresent[f]!.file}:${firstPresent[f]!.line}: column "${input.name}" ${e.message}`, e.hint);
      throw e;
    }
    const type = inputType(input.type);
    return { name: input.name, type: input.type, shape: type.shape(state), state };
  });
  const preprocessing: Preprocessing = {
    kind: 'table',
    inputs: specs,
    csv: { format, delimiter, naValues: data.na_values, missing: data.missing, missingTargets: data.missing_targets },
    rotation: rotation && { target: rotation.target, maxDegrees: rotation.max_degrees, seed: rotation.seed, input: rotationInput(rotation.input, specs) },
    targets: targetStats.finish(data.standardize_targets, train.pattern, notes),
  };
  if (imputed) notes.push(`imputed missing feature values in ${imputed} rows (train-split mean for numbers, mode for categories)`);

  // The blocks and the buffer, now that a row's encoded width is known.
  const rowBytes = encodedRowBytes(preprocessing);
  size = sizing(budget, perRow, rowBytes, data.shuffle_buffer);
  // Parquet: spans of blocks decoded together, within a quarter of the budget (perRow is a row's decoded bytes),
  // and at least a page: pages are decoded whole, so a smaller span decodes its page again for the next span.
  const spanRows = Math.max(size.blockRows, Math.floor((budget * 0.25) / (2 * perRow)), pageRows(trainPattern, trainKey, format));
  for (const s of [train, valSource, testSource]) if (s) assignSpans(s, spanRows);
  if (data.shuffle_buffer && data.shuffle_buffer * rowBytes > budget / 2) {
    notes.push(`data.shuffle_buffer: ${data.shuffle_buffer} rows take ${mb(data.shuffle_buffer * rowBytes)}, more than half of data.memory_budget (${mb(budget)})`);
  }
  const context: StreamContext = {
    pre: preprocessing,
    tasks,
    hint,
    na,
    flags,
    policy,
    frameFor,
    seed,
    bufferRows: Math.min(size.bufferRows, trainSize),
    augment: inputs.map((input) => (input.type === 'image' ? input.augment : undefined)),
  };
  notes.push(`data: streamed in blocks of up to ${train.blocks[0]?.rows ?? 0} rows; shuffle buffer of ${context.bufferRows} rows (${mb(context.bufferRows * rowBytes)})`);
  const shapes = specs;
  const streamed = (source: Source, part: 0 | 1 | 2, n: number, strict: boolean) => streamedSplit(shapes, n, new StreamReader(source, part, strict, context));
  return {
    train: streamed(train, 0, trainSize, true),
    val: valSource ? streamed(valSource, 1, sum(valSource, 1), true) : streamed(train, 1, sum(train, 1), !data.path),
    test: testSource ? streamed(testSource, 2, sum(testSource, 2), true) : streamed(train, 2, sum(train, 2), !data.path),
    preprocessing,
    notes,
  };
}

/** A fit for an input type without a fitter: the cells collected, then fit. */
function collectingFitter(input: InputConfig, file: string): InputFitter<unknown> {
  const cells: string[] = [];
  return {
    add: (cell, count = 1) => {
      for (let i = 0; i < count; i++) cells.push(cell);
    },
    get count() {
      return cells.length;
    },
    finish: () => inputType(input.type).fit(cells, input, { file, lines: [] }),
  };
}

function targetWidth(t: TargetTransform): number {
  if (t.kind === 'classification') return t.weights ? 2 : 1;
  return t.kind === 'multilabel' ? t.labels.length : t.columns.length;
}

/** The bytes of one encoded row: its inputs, targets and line, four bytes a value. */
export function encodedRowBytes(pre: Pick<Preprocessing, 'inputs' | 'targets'>): number {
  return 4 * (pre.inputs.reduce((n, s) => n + sampleSize(s.shape), 0) + Object.values(pre.targets).reduce((n, t) => n + targetWidth(t), 0) + 1);
}

/** Targets fitted in one pass: classes from every row of the train file, weights and statistics from the train rows. */
class TargetStats {
  private readonly labels = new Map<string, Set<string>>();
  private readonly counts = new Map<string, Map<string, number>>();
  private readonly sets = new Map<string, Map<string, string[]>>();
  private readonly positives = new Map<string, Map<string, number>>();
  private readonly labelled = new Map<string, number>();
  private readonly sums = new Map<string, { n: number; sum: number[]; shift: number[]; shifted: number[] }>();

  constructor(
    private readonly tasks: Record<string, TaskConfig>,
    private readonly rotation?: { seed: number; max_degrees: number },
  ) {}

  addSource(frame: Frame): void {
    for (const t of frame.tasks) {
      if (t.task.type === 'classification') {
        const set = this.labels.get(t.name) ?? new Set<string>();
        for (const label of distinctLabels(frame, t.name)) set.add(label);
        this.labels.set(t.name, set);
      } else if (t.task.type === 'multilabel') {
        const sets = labelSets(t);
        const distinct = this.sets.get(t.name) ?? new Map<string, string[]>();
        const known = t.task.labels ? new Set(t.task.labels) : undefined;
        for (let r = 0; r < frame.table.size; r++) {
          const set = sets(r);
          if (!set) continue;
          const unknown = known && set.find((l) => !known.has(l));
          if (unknown !== undefined && known) {
            throw new DataError(`${fileOf(frame.table, r)}:${frame.table.lines[r]}: task ${t.name}: label "${unknown}" is not in tasks.${t.name}.labels`, `add it to tasks.${t.name}.labels (${t.task.labels!.join(', ')}), or remove it from the row`);
          }
          distinct.set(JSON.stringify(set), set);
        }
        this.sets.set(t.name, distinct);
      }
    }
  }

  addTrain(frame: Frame, rows: number[]): void {
    for (const t of frame.tasks) {
      const missing = targetMissing(t);
      const labelled = rows.filter((r) => !missing(r));
      this.labelled.set(t.name, (this.labelled.get(t.name) ?? 0) + labelled.length);
      if (t.task.type === 'classification') {
        const counts = this.counts.get(t.name) ?? new Map<string, number>();
        for (const r of labelled) {
          const label = t.columns[0].text(r);
          counts.set(label, (counts.get(label) ?? 0) + 1);
        }
        this.counts.set(t.name, counts);
      } else if (t.task.type === 'multilabel') {
        const sets = labelSets(t);
        const positives = this.positives.get(t.name) ?? new Map<string, number>();
        for (const r of labelled) for (const l of sets(r)!) positives.set(l, (positives.get(l) ?? 0) + 1);
        this.positives.set(t.name, positives);
      } else {
        const k = targetColumns(t.task).length;
        const s = this.sums.get(t.name) ?? { n: 0, sum: new Array(k).fill(0), shift: new Array(k).fill(0), shifted: new Array(k).fill(0) };
        for (const r of labelled) {
          for (let j = 0; j < k; j++) {
            const v = t.kind === 'derived' ? rotationAngle(this.rotation!.seed, frame.firstIndex + r, this.rotation!.max_degrees) : t.columns[j].value(r);
            if (s.n === 0) s.shift[j] = v;
            s.sum[j] += v;
            s.shifted[j] += (v - s.shift[j]) ** 2;
          }
          s.n++;
        }
        this.sums.set(t.name, s);
      }
    }
  }

  finish(standardize: boolean, file: string, notes: string[]): Record<string, TargetTransform> {
    const out: Record<string, TargetTransform> = {};
    for (const [name, task] of Object.entries(this.tasks)) {
      const labelled = this.labelled.get(name) ?? 0;
      if (labelled === 0) {
        throw new DataError(`${file}: task ${name} has no labelled row in the train split (column ${targetColumns(task).join(', ')} is missing in every train row)`, 'fill in its labels, or remove the task');
      }
      if (task.type === 'classification') {
        const classes = classNames([...(this.labels.get(name) ?? [])], task.num_classes, name);
        checkClasses(name, task, classes);
        const counts = this.counts.get(name)!;
        const weights = classWeightsFromCounts(name, task, classes, classes.map((c) => counts.get(c) ?? 0));
        out[name] = { kind: 'classification', column: task.target, classes, ...(weights ? { weights } : {}) };
        if (weights) notes.push(`task ${name}: class weights ${describeWeights(classes, weights)} (class_weight${task.class_weight === 'balanced' ? ': balanced, from the train split' : ''})`);
      } else if (task.type === 'multilabel') {
        const labels = multilabelLabels(name, task, [...(this.sets.get(name)?.values() ?? [])]);
        const posWeights = positiveWeightsFromCounts(name, task, labels, this.positives.get(name) ?? new Map(), labelled);
        out[name] = { kind: 'multilabel', column: task.target, labels, ...(posWeights ? { posWeights } : {}) };
        if (posWeights && typeof task.pos_weight !== 'number') notes.push(`task ${name}: positive weights ${describeWeights(labels, posWeights)} (pos_weight${task.pos_weight === 'balanced' ? ': balanced, from the train split' : ''})`);
      } else {
        const columns = targetColumns(task);
        const s = this.sums.get(name)!;
        const mean = s.sum.map((v) => v / s.n);
        const std = mean.map((m, j) => Math.sqrt(Math.max(0, s.shifted[j] / s.n - (m - s.shift[j]) ** 2)) || 1);
        out[name] = standardize ? { kind: 'regression', columns, mean, std } : { kind: 'regression', columns, mean: columns.map(() => 0), std: columns.map(() => 1) };
      }
    }
    return out;
  }
}

interface StreamContext {
  pre: Preprocessing;
  tasks: Record<string, TaskConfig>;
  hint: (name: string) => ColumnHint | undefined;
  na: MissingValues;
  flags: Uint8Array;
  policy: { unlabelled: (f: Frame) => (r: number) => boolean; why: string; dropMissing: boolean };
  frameFor: (table: Table, first: number) => Frame;
  seed: number;
  bufferRows: number;
  augment: (InputConfig & { type: 'image' })['augment'][];
}

/**
 * One part (train, val or test) of streamed data read block by block, encoded: what an
 * epoch and an evaluation read (tables here, IDX images in images.ts).
 */
export interface PartReader<B = unknown> {
  readonly part: 0 | 1 | 2;
  /** The run's seed (the shuffle's) and the shuffle buffer's rows. */
  readonly seed: number;
  readonly bufferRows: number;
  /** The blocks that hold rows of this part, in file order. */
  blocks(): B[];
  /** A block's rows of this part, encoded. */
  block(block: B): Split;
  /** The span a block is read with (blocks of one span one after another); unset: a span a block. */
  spanOf?(block: B): number;
  close(): void;
}

/** Reads one part (train, val or test) of a source, block by block, encoded. */
class StreamReader implements PartReader<Block> {
  private readonly readers = new Map<number, ShardReader>();
  private readonly unseen = { count: 0 };

  constructor(
    readonly source: Source,
    readonly part: 0 | 1 | 2,
    private readonly strict: boolean,
    readonly context: StreamContext,
  ) {}

  get seed(): number {
    return this.context.seed;
  }
  get bufferRows(): number {
    return this.context.bufferRows;
  }

  spanOf(block: Block): number {
    return block.span;
  }

  /** The kept rows of this part in a block, encoded. */
  block(block: Block): Split {
    const { context } = this;
    const table = this.source.readBlock(block, context.hint, context.na, this.readers);
    const frame = context.frameFor(table, block.first);
    const rows = keptParts(frame, context.flags, this.source.part, context.policy)[this.part];
    const split = encodeParts([{ frame, rows } as Part], context.pre, context.tasks, { strictLabels: this.strict, unseen: this.unseen, rotate: true });
    split.inputs.forEach((input, f) => {
      if (this.part === 0 && context.augment[f]) input.augment = context.augment[f];
    });
    return split;
  }

  blocks(): Block[] {
    return this.source.blocks.filter((b) => b.kept[this.part] > 0);
  }

  close(): void {
    for (const r of this.readers.values()) r.reader.close();
    this.readers.clear();
  }
}

/** A split's rows as columns of one store: inputs, targets, lines. */
class RowStore {
  readonly columns: { values: Float32Array | Int32Array; width: number }[];
  count = 0;
  constructor(
    template: Split,
    readonly capacity: number,
  ) {
    const width = (length: number) => (template.size ? length / template.size : 0);
    this.columns = [
      ...template.inputs.map((i) => ({ values: new Float32Array(capacity * sampleSize(i.shape)), width: sampleSize(i.shape) })),
      ...Object.values(template.targets).map((t) => {
        const w = width(t.length);
        return { values: t instanceof Int32Array ? new Int32Array(capacity * w) : new Float32Array(capacity * w), width: w };
      }),
      { values: new Int32Array(capacity), width: 1 },
    ];
  }

  /** Row `i` of `split` (whose columns are in this order) into slot `j`. */
  static columnsOf(split: Split): (Float32Array | Int32Array)[] {
    return [...split.inputs.map((i) => i.values), ...Object.values(split.targets), split.rows];
  }

  put(from: (Float32Array | Int32Array)[], i: number, j: number): void {
    const { columns } = this;
    for (let c = 0; c < columns.length; c++) {
      const { values, width } = columns[c];
      const src = from[c];
      if (width === 1) values[j] = src[i];
      else for (let x = 0; x < width; x++) values[j * width + x] = src[i * width + x];
    }
  }

  copyTo(j: number, to: RowStore, k: number): void {
    const { columns } = this;
    for (let c = 0; c < columns.length; c++) {
      const { values, width } = columns[c];
      const dst = to.columns[c].values;
      if (width === 1) dst[k] = values[j];
      else for (let x = 0; x < width; x++) dst[k * width + x] = values[j * width + x];
    }
  }

  /** The first n rows as a Split shaped like `template`. */
  toSplit(template: Split, n: number): Split {
    const inputs = template.inputs.map((input, f) => ({ ...input, values: (this.columns[f].values as Float32Array).slice(0, n * this.columns[f].width) }));
    const names = Object.keys(template.targets);
    const targets: Split['targets'] = {};
    names.forEach((name, t) => {
      const c = this.columns[inputs.length + t];
      targets[name] = c.values.slice(0, n * c.width);
    });
    return { size: n, inputs, targets, rows: (this.columns[this.columns.length - 1].values as Int32Array).slice(0, n) };
  }
}

/** One epoch of train batches: blocks in a seeded order, rows through a seeded shuffle buffer. */
class EpochStream {
  private readonly rng: Rng;
  private readonly order: Uint32Array;
  private nextBlock = 0;
  private chunk?: Split;
  private chunkColumns: (Float32Array | Int32Array)[] = [];
  private chunkRow = 0;
  private buffer?: RowStore;
  private drain?: Uint32Array;
  private drained = 0;
  private template?: Split;
  rowsRead = 0;
  steps = 0;

  constructor(
    private readonly reader: PartReader,
    readonly epoch: number,
    private readonly batchSize: number,
  ) {
    const seed = deriveSeed(reader.seed, STREAM_STREAM, epoch);
    this.rng = new Rng(deriveSeed(seed, 1));
    this.blocks = reader.blocks();
    this.order = epochOrder(
      this.blocks.map((b, i) => reader.spanOf?.(b) ?? i),
      seed,
    );
  }
  private readonly blocks: unknown[];

  /** The next row into `out` (slot k), or false at the end of the epoch. */
  private emit(out: RowStore, k: number): boolean {
    for (;;) {
      if (this.drain) {
        if (this.drained >= this.drain.length) return false;
        this.buffer!.copyTo(this.drain[this.drained++], out, k);
        return true;
      }
      if (!this.chunk || this.chunkRow >= this.chunk.size) {
        if (this.nextBlock >= this.blocks.length) {
          // The rows left in the buffer, in a random order.
          const filled = this.buffer?.count ?? 0;
          this.drain = this.rng.shuffle(Uint32Array.from({ length: filled }, (_, i) => i));
          continue;
        }
        this.chunk = this.reader.block(this.blocks[this.order[this.nextBlock++]]);
        this.chunkColumns = RowStore.columnsOf(this.chunk);
        this.chunkRow = 0;
        this.template ??= this.chunk;
        this.buffer ??= new RowStore(this.chunk, this.reader.bufferRows);
        continue;
      }
      const buffer = this.buffer!;
      const i = this.chunkRow++;
      this.rowsRead++;
      if (buffer.count < buffer.capacity) {
        buffer.put(this.chunkColumns, i, buffer.count++);
        continue;
      }
      const j = this.rng.int(buffer.capacity);
      buffer.copyTo(j, out, k);
      buffer.put(this.chunkColumns, i, j);
      return true;
    }
  }

  next(): Split | undefined {
    let batch: RowStore | undefined;
    let n = 0;
    for (; n < this.batchSize; n++) {
      if (!batch) {
        // The first row fixes the shapes: read until there is one.
        const probe = this.template;
        if (!probe) {
          if (this.nextBlock >= this.blocks.length) return undefined;
          this.chunk = this.reader.block(this.blocks[this.order[this.nextBlock++]]);
          this.chunkColumns = RowStore.columnsOf(this.chunk);
          this.chunkRow = 0;
          this.template = this.chunk;
          this.buffer = new RowStore(this.chunk, this.reader.bufferRows);
        }
        batch = new RowStore(this.template!, this.batchSize);
      }
      if (!this.emit(batch, n)) break;
    }
    if (!batch || n === 0) return undefined;
    this.steps++;
    return batch.toSplit(this.template!, n);
  }
}

/** A split whose rows are streamed: shapes only, the rows behind `stream`. */
export function streamedSplit(specs: InputSpec[], size: number, reader: PartReader): Split {
  let current: EpochStream | undefined;
  const stream: SplitStream = {
    chunks: function* () {
      try {
        for (const block of reader.blocks()) yield reader.block(block);
      } finally {
        if (reader.part !== 0) reader.close();
      }
    },
    head(n) {
      let out: RowStore | undefined;
      let template: Split | undefined;
      for (const block of reader.blocks()) {
        const chunk = reader.block(block);
        template ??= chunk;
        out ??= new RowStore(chunk, n);
        const columns = RowStore.columnsOf(chunk);
        for (let i = 0; i < chunk.size && out.count < n; i++) out.put(columns, i, out.count++);
        if (out.count >= n) break;
      }
      return out!.toSplit(template!, out!.count);
    },
    describe: () => ({
      shuffle_seed: deriveSeed(reader.seed, STREAM_STREAM, current?.epoch ?? 0),
      shuffle_buffer: reader.bufferRows,
      epoch: current?.epoch ?? 0,
      steps: current?.steps ?? 0,
      rows_read: current?.rowsRead ?? 0,
      blocks: reader.blocks().length,
    }),
  };
  if (reader.part === 0) {
    stream.epoch = (epoch, batchSize, fromStep) => {
      current = new EpochStream(reader, epoch, batchSize);
      // Resuming mid-epoch: the batches before the step are read again and dropped, so the rest is exactly what the interrupted run would have taken.
      for (let s = 0; s < fromStep; s++) current.next();
      return current;
    };
  }
  return {
    size,
    inputs: specs.map((s) => ({ name: s.name, shape: s.shape, packed: inputType(s.type).packed(s.state), values: new Float32Array(0) })),
    targets: {},
    rows: new Int32Array(0),
    stream,
  };
}

/**
 * How close the streamed shuffle is to a full one, measured on row indices alone: `n`
 * rows in blocks of `blockRows`, read in a seeded block order through a buffer of
 * `bufferRows` (exactly the order EpochStream produces). Spearman's rank correlation
 * between a row's place in the file and in the epoch (a full shuffle: 0 ± 1/√n), the
 * mean displacement over n (a full shuffle: 1/3), and how often two rows that are
 * neighbours in the file land in one batch of `batch`, over what a full shuffle gives.
 * `spanBlocks` consecutive blocks make a span (Parquet: read one after another).
 */
export function shuffleCloseness(n: number, bufferRows: number, blockRows: number, seed: number, batch = 256, spanBlocks = 1): { spearman: number; displacement: number; neighbours: number } {
  const blocks = Math.ceil(n / blockRows);
  const order = epochOrder(
    Array.from({ length: blocks }, (_, b) => Math.floor(b / spanBlocks)),
    seed,
  );
  const rng = new Rng(deriveSeed(seed, 1));
  const capacity = Math.min(bufferRows, n);
  const buffer = new Uint32Array(capacity);
  const out = new Uint32Array(n);
  let filled = 0;
  let k = 0;
  for (let b = 0; b < blocks; b++) {
    const start = order[b] * blockRows;
    for (let row = start; row < Math.min(n, start + blockRows); row++) {
      if (filled < capacity) {
        buffer[filled++] = row;
        continue;
      }
      const j = rng.int(capacity);
      out[k++] = buffer[j];
      buffer[j] = row;
    }
  }
  const drain = rng.shuffle(Uint32Array.from({ length: filled }, (_, i) => i));
  for (const j of drain) out[k++] = buffer[j];
  const place = new Uint32Array(n);
  out.forEach((row, i) => (place[row] = i));
  let d2 = 0;
  let d1 = 0;
  let together = 0;
  for (let row = 0; row < n; row++) {
    const d = place[row] - row;
    d2 += d * d;
    d1 += Math.abs(d);
    if (row + 1 < n && Math.floor(place[row] / batch) === Math.floor(place[row + 1] / batch)) together++;
  }
  const fullTogether = (n - 1) * ((batch - 1) / (n - 1));
  return { spearman: 1 - (6 * d2) / (n * (n * n - 1)), displacement: d1 / n / n, neighbours: together / Math.max(fullTogether, 1e-9) };
}

/**
 * Whether eval --data and predict read a new file block by block, and the log line that
 * says why: when, read whole, it would take more than the run's data.memory_budget: the
 * file's bytes and, where the model has image inputs, its images decoded to float32.
 */
export async function newFileStreaming(config: Config, pre: Preprocessing, file: string, forced?: boolean): Promise<{ stream: boolean; budget: number; note?: string }> {
  const budget = memoryBytes(('memory_budget' in config.data && config.data.memory_budget) || '4GB');
  if (forced === false) return { stream: false, budget };
  if (forced) return { stream: true, budget, note: `data: reading ${file} block by block, within a memory budget of ${mb(budget)}` };
  const { bytes, images } = await wholeReadSize(pre, file);
  if (bytes + (images?.bytes ?? 0) <= budget) return { stream: false, budget };
  const over = `more than data.memory_budget (${mb(budget)}): reading it block by block`;
  if (!images) return { stream: true, budget, note: `data: ${file} holds ${mb(bytes)}, ${over}` };
  const count = `${images.estimated ? 'about ' : ''}${images.rows} ${images.shapes.length === 1 ? 'images' : 'rows of images'} of ${images.shapes.join(' + ')} pixels`;
  return { stream: true, budget, note: `data: ${file} holds ${bytes ? `${mb(bytes)} and ` : ''}${count}, ${mb(bytes + images.bytes)} with the images decoded to float32, ${over}` };
}

/**
 * What a new file takes read whole: its bytes, and its images decoded to float32 (the
 * image inputs' saved shapes, IDX images their header's) with the rows they are counted
 * from. An image folder's bytes are none: its list of paths is small. A file that cannot
 * be read counts what could be (the reader then says why).
 */
async function wholeReadSize(pre: Preprocessing, file: string): Promise<{ bytes: number; images?: { bytes: number; rows: number; estimated: boolean; shapes: string[] } }> {
  if (pre.kind === 'image') {
    const idx = idxImages(file, undefined);
    return { bytes: statBytes(file), images: idx && { bytes: idx.bytes, rows: idx.images, estimated: false, shapes: [idx.shape] } };
  }
  const format = tableFormatOf(file, pre.csv?.format ?? 'csv');
  const shapes = pre.inputs.filter((s) => s.type === 'image').map((s) => s.shape);
  const decoded = (rows: { rows: number; estimated: boolean }) => ({ ...rows, bytes: rows.rows * shapes.reduce((n, shape) => n + 4 * sampleSize(shape), 0), shapes: shapes.map((shape) => shape.join('x')) });
  try {
    if (format === 'image_folder') return { bytes: 0, images: shapes.length ? decoded(tableRows([file], '--data', format)) : undefined };
    const files = isGlob(file) ? expandGlob(file, '--data') : [file];
    const bytes = files.reduce((n, f) => n + statBytes(f), 0);
    if (!shapes.length || files.length === 0) return { bytes };
    try {
      if (format === 'parquet') await loadParquetReader();
      return { bytes, images: decoded(tableRows(files, '--data', format)) };
    } catch {
      return { bytes };
    }
  } catch {
    return { bytes: 0 };
  }
}

/** One block of a new file with the saved preprocessing: the rows it scores, and those it cannot (predict). */
export interface NewFileBlock {
  split: Split;
  unscorable: UnscorableRow[];
}

/**
 * A new file (mtl eval --data, mtl predict) read a block of rows at a time with the
 * preprocessing saved at training, each block encoded as the whole file would be, so
 * memory holds a block whatever the file's size: a table or an image folder
 * (NewFileBlocks), IDX images (images.ts).
 */
export interface NewFileReader {
  /** The blocks in file order; each pass reads them again. */
  blocks(): Iterable<NewFileBlock>;
  /** How many blocks (a table file: known after the first pass). */
  readonly blockCount: number;
  /** The notes of reading the file, worded as reading it whole words them (complete after the first pass). */
  notes(): string[];
}

/** A file (or an image folder's listing) read in blocks of rows: recorded the first time through, read again from their positions after. */
class FileTables {
  private readonly readers = new Map<number, ShardReader>();
  private recorded = false;

  constructor(
    private readonly source: Source,
    private readonly hint: (name: string) => ColumnHint | undefined,
    private readonly na: MissingValues,
    private readonly blockRows: number,
  ) {}

  get count(): number {
    return this.source.blocks.length;
  }

  *tables(): Generator<Table> {
    const { source } = this;
    if (!this.recorded) {
      for (const { table } of scanBlocks(source, this.hint, this.na, this.blockRows, true)) yield table;
      this.recorded = true;
      return;
    }
    try {
      for (const block of source.blocks) yield source.readBlock(block, this.hint, this.na, this.readers);
    } finally {
      for (const r of this.readers.values()) r.reader.close();
      this.readers.clear();
    }
  }
}

/** A new table (a CSV, JSONL or Parquet file, or an image folder) read a block of rows at a time, each block encoded by applyToTable. */
export class NewFileBlocks implements NewFileReader {
  private readonly blockNotes = new LoadNotes();
  private passes = 0;

  get blockCount(): number {
    return this.tables.count;
  }

  private constructor(
    private readonly pre: Preprocessing,
    private readonly tasks: Record<string, TaskConfig>,
    private readonly tables: FileTables,
    private readonly options: { requireTargets: boolean; strict: boolean },
  ) {}

  static async open(pre: Preprocessing, tasks: Record<string, TaskConfig>, file: string, budget: number, options: { requireTargets: boolean; strict: boolean }): Promise<NewFileBlocks> {
    const csv = pre.csv!;
    const format = tableFormatOf(file, csv.format);
    const hint = savedHints(pre, targetsRead(tasks, options));
    const na = new MissingValues(new Set(csv.naValues));
    const rowBytes = encodedRowBytes(pre);
    if (format === 'parquet') await loadParquetReader();
    const size = sizing(budget, bytesPerRow(file, '--data', format), rowBytes, undefined);
    return new NewFileBlocks(pre, tasks, new FileTables(new Source(file, '--data', format, csv.delimiter, Infinity, size), hint, na, size.blockRows), options);
  }

  *blocks(): Generator<NewFileBlock> {
    const first = this.passes++ === 0;
    for (const table of this.tables.tables()) yield this.encode(table, first);
  }

  notes(): string[] {
    return this.blockNotes.lines();
  }

  private encode(table: Table, first: boolean): NewFileBlock {
    try {
      const { split, unscorable, notes } = applyToTable(this.pre, this.tasks, table, this.options);
      if (first) this.blockNotes.merge(notes);
      return { split, unscorable };
    } finally {
      releaseDecodedImages();
    }
  }
}

/**
 * A new file's scored rows as a streamed split (mtl eval --data): a first pass checks
 * every row, counts them and gathers the notes; evaluation reads the blocks again.
 */
export function newFileSplit(pre: Preprocessing, file: string, blocks: NewFileReader): { split: Split; notes: string[] } {
  let size = 0;
  for (const block of blocks.blocks()) size += block.split.size;
  const stream: SplitStream = {
    chunks: function* () {
      for (const block of blocks.blocks()) yield block.split;
    },
    head(n) {
      const out: Split[] = [];
      let have = 0;
      for (const { split } of blocks.blocks()) {
        out.push(split);
        have += split.size;
        if (have >= n) break;
      }
      const template = out[0];
      const store = new RowStore(template, Math.min(n, have));
      for (const part of out) {
        const columns = RowStore.columnsOf(part);
        for (let i = 0; i < part.size && store.count < store.capacity; i++) store.put(columns, i, store.count++);
      }
      return store.toSplit(template, store.count);
    },
    describe: () => ({ file, blocks: blocks.blockCount }),
  };
  return {
    split: {
      size,
      inputs: pre.inputs.map((s) => ({ name: s.name, shape: s.shape, packed: inputType(s.type).packed(s.state), values: new Float32Array(0) })),
      targets: {},
      rows: new Int32Array(0),
      stream,
    },
    notes: blocks.notes(),
  };
}
