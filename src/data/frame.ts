/**
 * A columnar table as the config reads it (a Frame): its input columns and each task's
 * target columns, with the row-level rules of the table loaders (what is missing, which
 * cells are errors) and the encoder from rows to a Split. Both the in-memory loader
 * (tabular.ts, one frame per file) and the streamed one (stream.ts, one frame per
 * chunk) work through here, so they read every cell the same way.
 */
import type { TaskConfig } from '../config/schema';
import { DataError } from '../errors';
import { CellError, inputType, isPacked, type InputSpec } from '../inputs';
import type { EncodeContext } from '../inputs/types';
import { sampleSize } from './batches';
import { LIST_CELL, NumberColumn, StringColumn, fileOf, type Column, type Table } from './columns';
import { columnIndex } from './csv';
import { UNLABELLED_CLASS, weightedClasses } from './labels';
import { numericCell } from './numbers';
import { rotateImage, rotationAngle } from './rotation';
import { labelSet } from './targets';
import type { Preprocessing, Split, TargetTransform, UnscorableRow } from './types';

export function targetColumns(task: TaskConfig): string[] {
  return Array.isArray(task.target) ? task.target : [task.target];
}

export interface FrameTask {
  name: string;
  task: TaskConfig;
  /** derived: the rotation angle, computed from the row's index in its file. */
  kind: 'derived' | 'classification' | 'multilabel' | 'regression';
  columns: Column[];
}

export interface Frame {
  table: Table;
  /** The input columns, in the model's input order. */
  features: Column[];
  /** Per input: a missing cell reads as an empty value (text inputs), once the types are known. */
  emptyMissing: boolean[];
  tasks: FrameTask[];
  /** The file index of the frame's row 0 (a chunk of a streamed file starts further on). */
  firstIndex: number;
  rotation?: { target: string; max_degrees: number; seed: number };
}

/** A run of rows of one frame (indices into its table, ascending). */
export interface Part {
  frame: Frame;
  rows: ArrayLike<number>;
}

/** The frame of a table: columns looked up (features first, then each task's target columns, as errors are reported). */
export function frameOf(
  table: Table,
  features: string[],
  tasks: Record<string, TaskConfig>,
  featureKey: string,
  rotation?: { target: string; max_degrees: number; seed: number },
  firstIndex = 0,
): Frame {
  const column = (i: number) => table.columns[i] ?? (table.columns[i] = missingColumn(table.header[i]));
  const featureCols = features.map((f) => column(columnIndex(table, f, featureKey)));
  const derived = (t: TaskConfig) => rotation !== undefined && t.type === 'regression' && t.target === rotation.target;
  const frameTasks = Object.entries(tasks).map(([name, task]): FrameTask => {
    if (derived(task)) return { name, task, kind: 'derived', columns: [] };
    const columns = targetColumns(task).map((c) => column(columnIndex(table, c, `tasks.${name}.target`)));
    return { name, task, kind: task.type === 'classification' ? 'classification' : task.type === 'multilabel' ? 'multilabel' : 'regression', columns };
  });
  return { table, features: featureCols, emptyMissing: features.map(() => false), tasks: frameTasks, firstIndex, rotation };
}

function missingColumn(name: string): never {
  throw new Error(`internal error: column "${name}" was not read`);
}

const isList = (text: string) => text.startsWith(LIST_CELL);

/** Rows of a column whose text satisfies `pred` (which is false for every plain number). */
export function rowsWhere(column: Column, pred: (text: string) => boolean): number[] {
  if (column instanceof NumberColumn) return [...column.raw].filter(([, t]) => pred(t)).map(([r]) => r).sort((a, b) => a - b);
  const strings = (column as StringColumn).strings;
  const hit = strings.map(pred);
  if (!hit.some(Boolean)) return [];
  const codes = (column as StringColumn).codes;
  const out: number[] = [];
  for (let r = 0; r < codes.length; r++) if (hit[codes[r]]) out.push(r);
  return out;
}

/**
 * The checks made on reading each row, in file order: a JSONL array outside a multilabel
 * target, and a regression target that is present but not a number.
 */
export function checkFrame(frame: Frame): void {
  const { table } = frame;
  const candidates = new Set<number>();
  for (const t of frame.tasks) {
    for (const c of t.columns) {
      if (t.kind !== 'multilabel') for (const r of rowsWhere(c, isList)) candidates.add(r);
      if (t.kind === 'regression') for (const r of c.irregular()) candidates.add(r);
    }
  }
  for (const c of frame.features) for (const r of rowsWhere(c, isList)) candidates.add(r);
  if (candidates.size === 0) return;
  for (const r of [...candidates].sort((a, b) => a - b)) {
    const file = fileOf(table, r);
    const line = table.lines[r];
    for (const t of frame.tasks) {
      if (t.kind !== 'multilabel') for (const c of t.columns) refuseList(file, line, table, c, r);
      if (t.kind !== 'regression' || t.columns.some((c) => c.missing(r))) continue;
      for (const c of t.columns) {
        const cell = numericCell(c.text(r), 'train on');
        if (!cell.ok) {
          throw new DataError(`${file}:${line}: column "${table.header[table.columns.indexOf(c)]}" (target of task ${t.name}) ${cell.problem}`, 'fix the cell, or add the value to data.na_values if it means "missing"');
        }
      }
    }
    for (const c of frame.features) refuseList(file, line, table, c, r);
  }
}

function refuseList(file: string, line: number, table: Table, column: Column, r: number): void {
  if (!isList(column.text(r))) return;
  const name = table.header[table.columns.indexOf(column)];
  throw new DataError(`${file}:${line}: key "${name}" holds an array; a column holds one number or string per row (an array is the labels of a multilabel task)`, `flatten "${name}" into one key per value, or make it the target of a type: multilabel task`);
}

/** Per row: whether it lacks the task's label. */
export function targetMissing(t: FrameTask): (r: number) => boolean {
  if (t.kind === 'derived') return () => false;
  const [first] = t.columns;
  if (t.kind === 'multilabel') {
    const emptyIsNone = t.task.type === 'multilabel' && t.task.empty_cell === 'no_labels';
    return (r) => first.missing(r) && !(emptyIsNone && first.text(r) === '');
  }
  if (t.columns.length === 1) return (r) => first.missing(r);
  return (r) => t.columns.some((c) => c.missing(r));
}

/** Per row: the labels of a multilabel cell (null without), computed once per distinct cell. */
export function labelSets(t: FrameTask): (r: number) => string[] | null {
  const missing = targetMissing(t);
  const column = t.columns[0];
  const task = t.task as Extract<TaskConfig, { type: 'multilabel' }>;
  const cache = new Map<string, string[]>();
  return (r) => {
    if (missing(r)) return null;
    const cell = column.text(r);
    if (cell === '' && task.empty_cell === 'no_labels') return [];
    let set = cache.get(cell);
    if (!set) cache.set(cell, (set = labelSet(cell, task)));
    return set;
  };
}

/** A multilabel cell names a label the model does not know: a row error naming the file, line, column and label. */
function unknownLabel(frame: Frame, row: number, t: FrameTask, label: string, known: string[]): DataError {
  return new DataError(
    `${fileOf(frame.table, row)}:${frame.table.lines[row]}: column "${targetColumns(t.task)[0]}" (task ${t.name}): label "${label}" was never seen in training`,
    `the model knows ${known.join(', ')}; remove the label from the row or retrain with it`,
  );
}

/**
 * Every label that the multilabel target cells of `frame` name is one the model knows
 * (the first unknown one, in file order, is a row error): predict checks the target
 * columns a file carries, though it scores none.
 */
export function checkKnownLabels(frame: Frame, pre: Preprocessing): void {
  for (const t of frame.tasks) {
    const target = pre.targets[t.name];
    if (t.kind !== 'multilabel' || target?.kind !== 'multilabel') continue;
    const known = new Set(target.labels);
    const sets = labelSets(t);
    for (let r = 0; r < frame.table.size; r++) {
      const unknown = sets(r)?.find((label) => !known.has(label));
      if (unknown !== undefined) throw unknownLabel(frame, r, t, unknown, target.labels);
    }
  }
}

/** Whether input f's cell of row r is missing (a text input's never is: it reads as empty). */
export function featureMissing(frame: Frame, f: number, r: number): boolean {
  return !frame.emptyMissing[f] && frame.features[f].missing(r);
}

/** A row predicate that is false for every row (callers skip the rows loop). */
export const NEVER = (_r: number): boolean => false;

/** The rows that lack the task's label (ascending). */
export function taskMissingRows(t: FrameTask, size: number): number[] {
  if (t.kind === 'derived') return [];
  const rows = new Set<number>();
  for (const c of t.columns) for (const r of missingRows(c, size)) rows.add(r);
  const missing = targetMissing(t);
  return [...rows].filter((r) => missing(r)).sort((a, b) => a - b);
}

/** Rows of a column that are missing. */
export function missingRows(column: Column, size: number): number[] {
  if (column instanceof NumberColumn) return column.raw.size ? [...column.raw.keys()].filter((r) => column.missing(r)).sort((a, b) => a - b) : [];
  const strings = column as StringColumn;
  if (!strings.strings.some((_, code) => strings.missingCode(code))) return [];
  const out: number[] = [];
  for (let r = 0; r < size; r++) if (strings.missingCode(strings.codes[r])) out.push(r);
  return out;
}

/** Per row: whether any input's cell is missing (text inputs' never are); one flag per row only when some are. */
export function anyFeatureMissing(frame: Frame): (r: number) => boolean {
  let flags: Uint8Array | undefined;
  frame.features.forEach((column, f) => {
    if (frame.emptyMissing[f]) return;
    const rows = missingRows(column, frame.table.size);
    if (rows.length === 0) return;
    flags ??= new Uint8Array(frame.table.size);
    for (const r of rows) flags[r] = 1;
  });
  return flags ? (r) => flags![r] === 1 : NEVER;
}

/** Input f's cell of row r (null: missing). */
export function featureCell(frame: Frame, f: number, r: number): string | null {
  const column = frame.features[f];
  if (!column.missing(r)) return column.text(r);
  return frame.emptyMissing[f] ? '' : null;
}

export interface EncodeOptions {
  /** A label or category outside the known ones is an error (explicit files) rather than counted. */
  strictLabels: boolean;
  unseen: { count: number };
  /** Collect problems per row instead of throwing (predict). */
  unscorable?: UnscorableRow[];
  requireTargets?: boolean;
  /** Apply the rotation of Preprocessing.rotation (training, and eval with targets). */
  rotate: boolean;
  /** Facts the input types count while encoding, by `input\0fact`. */
  tallies?: Map<string, number>;
}

/** What encoding one cell did, replayed for every row holding the same cell. */
interface Memo {
  values: Float32Array;
  unseen: number;
  tallies: string[];
  error?: unknown;
}

const MEMO_CODES = 4096;
const MEMO_WIDTH = 4096;

/** Encodes the rows of `parts` (in order) into one Split with the fitted preprocessing. */
export function encodeParts(parts: Part[], pre: Preprocessing, tasks: Record<string, TaskConfig>, options: EncodeOptions): Split {
  const specs = pre.inputs;
  const sizes = specs.map((s) => sampleSize(s.shape));
  const total = parts.reduce((n, p) => n + p.rows.length, 0);
  const arrays = sizes.map((size) => new Float32Array(total * size));
  const strict = options.strictLabels || options.unscorable !== undefined;
  const rotation = options.rotate && pre.rotation?.input ? pre.rotation : undefined;
  const rotatedInput = rotation ? specs.findIndex((s) => s.name === rotation.input) : -1;
  const types = specs.map((s) => inputType(s.type));
  const missingPolicy = pre.csv!.missing;
  const tally = (f: number, what: string) => {
    const key = `${specs[f].name}\0${what}`;
    options.tallies?.set(key, (options.tallies.get(key) ?? 0) + 1);
  };
  const keptRows = new Int32Array(total);
  const segments: Segment[] = [];
  let k = 0;
  for (const { frame, rows } of parts) {
    const { table } = frame;
    const from = k;
    // Per input, how its cells are encoded: from the number, in a pass of its own (number
    // columns; cells that are not plain numbers go cell by cell), once per distinct cell
    // (string columns), or cell by cell.
    const fast = specs.map((_, f) => (types[f].encodeNumber && sizes[f] === 1 && frame.features[f] instanceof NumberColumn ? (frame.features[f] as NumberColumn) : undefined));
    const memos = specs.map((spec, f) => {
      const column = frame.features[f];
      // Not images: a memo would keep a second copy of every picture.
      return column instanceof StringColumn && spec.type !== 'image' && column.strings.length <= MEMO_CODES && sizes[f] <= MEMO_WIDTH ? new Array<Memo | undefined>(column.strings.length) : undefined;
    });
    const rowWise = specs.map((_, f) => f).filter((f) => !fast[f] || fast[f]!.raw.size > 0);
    // Each distinct cell of a memo column is encoded once, before the rows (what it gives does not depend on the row).
    const counts = memos.map((memo, f) => {
      if (!memo) return undefined;
      const column = frame.features[f] as StringColumn;
      const { firstRow, count } = codeRows(column.codes, rows, memo.length);
      for (let code = 0; code < memo.length; code++) {
        const r = firstRow[code];
        if (r >= 0) memo[code] = memoOf(frame, f, r, specs[f], sizes[f], missingPolicy, strict, options);
      }
      return count;
    });
    // When every row-wise input is such a column and no cell errs or tallies, they are copied a column at a time.
    const byColumn =
      rowWise.length > 0 && !rotation && rowWise.every((f) => memos[f] && memos[f]!.every((m) => !m || (m.error === undefined && m.tallies.length === 0)));
    if (byColumn) {
      for (const f of rowWise) {
        const memo = memos[f]!;
        const width = sizes[f];
        const byCode = new Float32Array(memo.length * width);
        memo.forEach((m, code) => {
          if (!m) return;
          byCode.set(m.values, code * width);
          options.unseen.count += m.unseen * counts[f]![code];
        });
        gatherByCode(arrays[f], k, (frame.features[f] as StringColumn).codes, rows, byCode, width);
      }
      keptRows.set(rows, k);
      k += rows.length;
    }
    for (let i = 0; i < (byColumn ? 0 : rows.length); i++) {
      const r = rows[i];
      if (rowWise.length > 0) {
        const file = table.shards ? fileOf(table, r) : table.file;
        try {
          for (const f of rowWise) {
            const column = frame.features[f];
            const numbers = fast[f];
            if (numbers && !numbers.raw.has(r)) continue;
            const memo = memos[f];
            if (memo) {
              const code = (column as StringColumn).codes[r];
              const m = memo[code]!;
              if (m.error) throw m.error instanceof DataError ? rowError(m.error, file, table.lines[r]) : m.error;
              const target = arrays[f];
              const values = m.values;
              for (let x = 0, at = k * values.length; x < values.length; x++) target[at + x] = values[x];
              options.unseen.count += m.unseen;
              for (const what of m.tallies) tally(f, what);
              continue;
            }
            const out = arrays[f].subarray(k * sizes[f], (k + 1) * sizes[f]);
            encodeCell(frame, f, r, specs[f], out, missingPolicy, { strictCategories: strict, unseen: options.unseen, file, tally: (what) => tally(f, what) }, options);
          }
        } catch (e) {
          arrays.forEach((a, f) => a.fill(0, k * sizes[f], (k + 1) * sizes[f]));
          if (options.unscorable && e instanceof DataError) options.unscorable.push({ row: table.lines[r], reason: e.message.replace(/^[^:]+:\d+: /, '') });
          else throw e;
          continue;
        }
      }
      if (rotation) {
        const [h, w, c] = specs[rotatedInput].shape;
        const image = arrays[rotatedInput].subarray(k * sizes[rotatedInput], (k + 1) * sizes[rotatedInput]);
        const rotated = new Float32Array(image.length);
        rotateImage(image, rotated, h, w, c, rotationAngle(rotation.seed, frame.firstIndex + r, rotation.maxDegrees));
        image.set(rotated);
      }
      keptRows[k++] = r;
    }
    // The plain numbers, a column at a time.
    fast.forEach((numbers, f) => {
      if (numbers) encodeNumbers(arrays[f], numbers, keptRows, from, k, types[f].encodeNumber!, specs[f].state);
    });
    segments.push({ frame, rows: keptRows.subarray(from, k) });
  }
  const n = k;
  const inputs = specs.map((s, f) => ({ name: s.name, shape: s.shape, packed: isPacked(s), values: n === total ? arrays[f] : arrays[f].slice(0, n * sizes[f]) }));
  const targets: Split['targets'] = {};
  if (options.requireTargets !== false) {
    for (const name of Object.keys(tasks)) targets[name] = encodeTargets(segments, n, name, pre.targets[name]);
  }
  const lines = new Int32Array(n);
  let at = 0;
  for (const { frame, rows } of segments) for (let i = 0; i < rows.length; i++) lines[at++] = frame.table.lines[rows[i]];
  return { size: n, inputs, targets, rows: lines };
}

/** Per code of a string column: the first of `rows` holding it (-1: none) and how many do. */
function codeRows(codes: Int32Array, rows: ArrayLike<number>, codeCount: number): { firstRow: Int32Array; count: Int32Array } {
  const firstRow = new Int32Array(codeCount).fill(-1);
  const count = new Int32Array(codeCount);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const code = codes[r];
    if (count[code]++ === 0) firstRow[code] = r;
  }
  return { firstRow, count };
}

/** What encoding the cell of row r of input f gives (an error is kept, to be thrown for each row holding the cell). */
function memoOf(frame: Frame, f: number, r: number, spec: InputSpec, size: number, missing: 'drop' | 'impute', strict: boolean, options: EncodeOptions): Memo {
  const record: Memo = { values: new Float32Array(size), unseen: 0, tallies: [] };
  const counter = { count: 0 };
  try {
    encodeCell(frame, f, r, spec, record.values, missing, { strictCategories: strict, unseen: counter, file: fileOf(frame.table, r), tally: (what) => record.tallies.push(what) }, options);
  } catch (e) {
    record.error = e;
  }
  record.unseen = counter.count;
  return record;
}

/** out[(at + i) * width ...] = the encoded cell of rows[i], from a table of encodings by code. */
function gatherByCode(out: Float32Array, at: number, codes: Int32Array, rows: ArrayLike<number>, byCode: Float32Array, width: number): void {
  if (width === 1) {
    for (let i = 0; i < rows.length; i++) out[at + i] = byCode[codes[rows[i]]];
    return;
  }
  for (let i = 0, o = at * width; i < rows.length; i++, o += width) {
    const from = codes[rows[i]] * width;
    for (let x = 0; x < width; x++) out[o + x] = byCode[from + x];
  }
}

/** out[j] = encode(value of row keptRows[j]) for j in [from, to), but for the cells that are not plain numbers (encoded row by row). */
function encodeNumbers<State>(out: Float32Array, column: NumberColumn, keptRows: Int32Array, from: number, to: number, encode: (value: number, state: State) => number, state: State): void {
  const { values, raw } = column;
  if (raw.size === 0) {
    for (let j = from; j < to; j++) out[j] = encode(values[keptRows[j]], state);
    return;
  }
  for (let j = from; j < to; j++) {
    const r = keptRows[j];
    if (!raw.has(r)) out[j] = encode(values[r], state);
  }
}

/** Kept rows of one frame, in output order. */
interface Segment {
  frame: Frame;
  rows: Int32Array;
}

/** The memo's error, with the file and line of this row. */
function rowError(e: DataError, file: string, line: number): DataError {
  return new DataError(e.message.replace(/^[^:]+:\d+: /, `${file}:${line}: `), e.hint);
}

function encodeCell(frame: Frame, f: number, r: number, spec: InputSpec, out: Float32Array, missing: 'drop' | 'impute', context: EncodeContext, options: EncodeOptions): void {
  const type = inputType(spec.type);
  try {
    let cell = featureCell(frame, f, r);
    if (cell === null) {
      if (missing === 'drop' && options.unscorable) throw new CellError('is missing');
      cell = type.fill(spec.state);
    }
    type.encode(cell, spec.state, out, context);
  } catch (e) {
    if (e instanceof CellError) throw new DataError(`${context.file}:${frame.table.lines[r]}: column "${spec.name}" ${e.message}`, e.hint);
    throw e;
  }
}

function encodeTargets(segments: Segment[], n: number, name: string, t: TargetTransform): Int32Array | Float32Array {
  const taskOf = (frame: Frame) => frame.tasks.find((x) => x.name === name)!;
  if (t.kind === 'classification') {
    const index = new Map(t.classes.map((c, i) => [c, i]));
    const classes = new Int32Array(n);
    let i = 0;
    for (const { frame, rows } of segments) {
      const task = taskOf(frame);
      const missing = targetMissing(task);
      const column = task.columns[0];
      if (column instanceof StringColumn && task.columns.length === 1) {
        classesByCode(classes, i, column, rows, index, (row) => {
          throw new DataError(`${fileOf(frame.table, row)}:${frame.table.lines[row]}: task ${name}: class "${column.text(row)}" was never seen in training`, `the model knows ${t.classes.join(', ')}; remove the row or retrain with it`);
        });
        i += rows.length;
        continue;
      }
      const byCode = column instanceof StringColumn ? new Int32Array(column.strings.length).fill(-2) : undefined;
      for (let j = 0; j < rows.length; j++, i++) {
        const row = rows[j];
        if (missing(row)) {
          classes[i] = UNLABELLED_CLASS;
          continue;
        }
        const code = byCode ? (column as StringColumn).codes[row] : -1;
        let c = byCode ? byCode[code] : -2;
        if (c === -2) {
          const label = column.text(row);
          const known = index.get(label);
          if (known === undefined) {
            throw new DataError(`${fileOf(frame.table, row)}:${frame.table.lines[row]}: task ${name}: class "${label}" was never seen in training`, `the model knows ${t.classes.join(', ')}; remove the row or retrain with it`);
          }
          c = known;
          if (byCode) byCode[code] = c;
        }
        classes[i] = c;
      }
    }
    return t.weights ? weightedClasses(classes, t.weights) : classes;
  }
  if (t.kind === 'multilabel') {
    const k = t.labels.length;
    const index = new Map(t.labels.map((l, i) => [l, i]));
    const out = new Float32Array(n * k);
    let i = 0;
    for (const { frame, rows } of segments) {
      const sets = labelSets(taskOf(frame));
      for (let j = 0; j < rows.length; j++, i++) {
        const row = rows[j];
        const set = sets(row);
        if (set === null) {
          out.fill(NaN, i * k, (i + 1) * k);
          continue;
        }
        for (const label of set) {
          const l = index.get(label);
          if (l === undefined) throw unknownLabel(frame, row, taskOf(frame), label, t.labels);
          out[i * k + l] = t.posWeights?.[l] ?? 1;
        }
      }
    }
    return out;
  }
  const k = t.columns.length;
  const out = new Float32Array(n * k);
  let i = 0;
  for (const { frame, rows } of segments) {
    const task = taskOf(frame);
    const missing = targetMissing(task);
    const rot = frame.rotation;
    const plain = task.kind === 'regression' && task.columns.every((c) => c instanceof NumberColumn && c.raw.size === 0);
    if (plain) {
      task.columns.forEach((c, col) => standardizedValues(out, i, k, col, (c as NumberColumn).values, rows, t.mean[col], t.std[col]));
      i += rows.length;
      continue;
    }
    for (let j = 0; j < rows.length; j++, i++) {
      const row = rows[j];
      if (missing(row)) {
        out.fill(NaN, i * k, (i + 1) * k);
        continue;
      }
      if (task.kind === 'derived') {
        out[i * k] = (rotationAngle(rot!.seed, frame.firstIndex + row, rot!.max_degrees) - t.mean[0]) / t.std[0];
        continue;
      }
      for (let c = 0; c < k; c++) out[i * k + c] = (task.columns[c].value(row) - t.mean[c]) / t.std[c];
    }
  }
  return out;
}

/**
 * out[at + j] = the class index of rows[j] (UNLABELLED_CLASS when missing), looked up once
 * per code; `unknown` throws for the first row whose label is not a class.
 */
function classesByCode(out: Int32Array, at: number, column: StringColumn, rows: ArrayLike<number>, index: Map<string, number>, unknown: (row: number) => never): void {
  const byCode = Int32Array.from(column.strings, (label, code) => (column.missingCode(code) ? UNLABELLED_CLASS : (index.get(label) ?? -2)));
  const codes = column.codes;
  for (let j = 0; j < rows.length; j++) {
    const c = byCode[codes[rows[j]]];
    if (c === -2) unknown(rows[j]);
    out[at + j] = c;
  }
}

/** out[(at + j) * width + col] = (values[rows[j]] - mean) / std. */
function standardizedValues(out: Float32Array, at: number, width: number, col: number, values: Float64Array, rows: ArrayLike<number>, mean: number, std: number): void {
  for (let j = 0, o = at * width + col; j < rows.length; j++, o += width) out[o] = (values[rows[j]] - mean) / std;
}

export { UNLABELLED_CLASS };
