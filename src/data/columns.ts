/**
 * Columnar tables: what the table readers (CSV, JSONL, Parquet, image folders) fill as
 * they go, one typed column per column the config uses, never one object per row.
 *
 * A number column keeps a Float64Array of values (what `Number(cell)` gives) and, in
 * a sparse map, the text of the few cells that are not plain numbers (missing, words,
 * non-finite or out-of-range values), so every message can still quote the cell. A
 * string column (categories, labels, paths, text) keeps an Int32Array of codes into
 * its distinct values. A column whose type is still to be detected (the short form,
 * `data.features`) starts as numbers and turns into strings once most of its cells are
 * words; every canonical number (`String(Number(cell)) === cell`) can give its text
 * back, and a column that dropped a non-canonical number's text says so (`lossy`), so
 * the reader can read it again as strings if it turns out to be a category.
 */
import { MAX_ABS_VALUE } from './numbers';

/** The cell of a null value or an absent key (JSONL, Parquet): always missing, whatever data.na_values says. */
export const MISSING_CELL = '\u0000missing';

/**
 * The prefix of a cell that holds a flat JSON array of strings or numbers (followed by the
 * array as JSON): the labels of a multilabel task. Any other column refuses it (tabular.ts).
 */
export const LIST_CELL = '\u0000list';

/** What a reader is told about a column: read as numbers, as strings, to be detected, or not at all. */
export type ColumnHint = 'number' | 'string' | 'auto';

export interface Column {
  readonly kind: 'number' | 'string';
  /** The cell's text as read (trimmed), or MISSING_CELL. */
  text(row: number): string;
  /** `Number(text)`, NaN for an empty cell. */
  value(row: number): number;
  /** MISSING_CELL or one of data.na_values. */
  missing(row: number): boolean;
  /** The rows whose value is not a finite number within ±MAX_ABS_VALUE, or that are missing (number columns: exactly the rows with kept text). */
  irregular(): number[];
  /** A non-canonical number's text was not kept (auto columns): read the column again as strings to get it. */
  readonly lossy: boolean;
}

/** Cells that mean "missing": MISSING_CELL and data.na_values, with those that are canonical numbers as numbers. */
export class MissingValues {
  /** The finite ones that are canonical numbers, as numbers. */
  readonly numbers: Set<number>;
  /** Some missing-value text is a plain decimal written another way (`1.50`): such cells must be compared as text. */
  readonly oddDecimals: boolean;
  constructor(readonly texts: Set<string>) {
    // Only finite ones: NaN and ±Infinity are never read as plain numbers (and a Set lookup per cell costs).
    this.numbers = new Set([...texts].filter((t) => t !== '' && String(Number(t)) === t).map(Number).filter(Number.isFinite));
    this.oddDecimals = [...texts].some((t) => /^-?\d+(\.\d+)?$/.test(t) && String(Number(t)) !== t);
  }
  has(text: string): boolean {
    return text === MISSING_CELL || this.texts.has(text);
  }
}

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** Set by parseDecimal: whether the bytes were a canonical number (String(value) gives them back). */
let canonical = false;

/**
 * The value of ASCII bytes [s, e) when they are a plain decimal (`-12.5`, `3`, at most
 * 15 significant digits: then m / 10^k is exactly what Number() gives), else NaN
 * (the caller falls back to Number() on the text).
 */
export function parseDecimal(buf: Uint8Array, s: number, e: number): number {
  canonical = false;
  let p = s;
  let neg = false;
  if (p < e && buf[p] === 45) {
    neg = true;
    p++;
  }
  const intStart = p;
  let m = 0;
  let sig = 0;
  while (p < e) {
    const d = buf[p] - 48;
    if (d < 0 || d > 9) break;
    m = m * 10 + d;
    if (m !== 0) sig++;
    p++;
  }
  const intDigits = p - intStart;
  if (intDigits === 0) return NaN;
  let fracDigits = 0;
  let lastFrac = 1;
  let leadingFracZeros = 0;
  if (p < e && buf[p] === 46) {
    p++;
    const fracStart = p;
    while (p < e) {
      const d = buf[p] - 48;
      if (d < 0 || d > 9) break;
      if (m === 0 && d === 0) leadingFracZeros++;
      m = m * 10 + d;
      if (m !== 0) sig++;
      lastFrac = d;
      p++;
    }
    fracDigits = p - fracStart;
    if (fracDigits === 0) return NaN;
  }
  if (p !== e || sig > 15 || fracDigits > 22) return NaN;
  let value = fracDigits ? m / POW10[fracDigits] : m;
  if (neg) value = -value;
  canonical = (intDigits === 1 || buf[intStart] !== 48) && lastFrac !== 0 && !(neg && m === 0) && !(m !== 0 && intDigits === 1 && buf[intStart] === 48 && leadingFracZeros > 5);
  return value;
}

/** A cell's number as numericCell reads it: NaN for an empty cell. */
export const cellNumber = (text: string): number => (text === '' ? NaN : Number(text));

const regular = (v: number) => Number.isFinite(v) && Math.abs(v) <= MAX_ABS_VALUE;

function growFloat(a: Float64Array<ArrayBuffer>, n: number): Float64Array<ArrayBuffer> {
  if (n <= a.length) return a;
  const out = new Float64Array(a.length === 0 ? Math.max(n, 1024) : Math.max(n, a.length * 2));
  out.set(a);
  return out;
}

function growInt(a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  if (n <= a.length) return a;
  const out = new Int32Array(a.length === 0 ? Math.max(n, 1024) : Math.max(n, a.length * 2));
  out.set(a);
  return out;
}

const latin1 = (buf: Buffer, s: number, e: number) => buf.toString('latin1', s, e);
const utf8 = (buf: Buffer, s: number, e: number) => buf.toString('utf8', s, e);

/** A column being filled (rows are written by index, so a record read twice writes the same cells again). */
export interface ColumnBuilder extends Column {
  /** ASCII-or-UTF-8 bytes of a cell already trimmed and unquoted; `ascii` when no byte is >= 0x80. */
  pushBytes(row: number, buf: Buffer, s: number, e: number, ascii: boolean): void;
  pushText(row: number, text: string): void;
  /** A number that is its own text (JSON and Parquet numbers). */
  pushNumber(row: number, value: number): void;
  /** Trims its storage to `size` rows; returns the finished column (an auto column may have turned into strings). `view`: a view of the storage, valid until reset. */
  finish(size: number, view?: boolean): Column;
  /** Room for `rows` rows (an estimate: it still grows past it). */
  reserve(rows: number): void;
  /** Empty again, keeping its storage (the next block of a stream). */
  reset(): void;
}

/** `a` cut to `n` values: a view when little would be wasted, else a copy. */
function trimmed<T extends Float64Array<ArrayBuffer> | Int32Array<ArrayBuffer>>(a: T, n: number, view = false): T {
  if (a.length === n) return a;
  if (view) return a.subarray(0, n) as T;
  return (n >= a.length * 0.95 ? a.subarray(0, n) : a.slice(0, n)) as T;
}

export class NumberColumn implements ColumnBuilder {
  readonly kind = 'number' as const;
  values: Float64Array<ArrayBuffer> = new Float64Array(0);
  /** Text of the cells that are not regular numbers (and, lossless, of non-canonical ones in auto columns). */
  readonly raw = new Map<number, string>();
  lossy = false;
  /** Cells that are words (not numbers and not missing): an auto column turns into strings when most are. */
  private words = 0;
  /** Set when an auto column turned into strings: the table replaces it. */
  replacement?: StringColumn;

  constructor(
    private readonly na: MissingValues,
    private readonly auto = false,
  ) {}

  text(row: number): string {
    return this.raw.get(row) ?? String(this.values[row]);
  }
  value(row: number): number {
    return this.values[row];
  }
  missing(row: number): boolean {
    const raw = this.raw.size ? this.raw.get(row) : undefined;
    return raw !== undefined && this.na.has(raw);
  }
  irregular(): number[] {
    return [...this.raw.keys()].filter((r) => !regular(this.values[r]) || this.missing(r)).sort((a, b) => a - b);
  }

  pushBytes(row: number, buf: Buffer, s: number, e: number, ascii: boolean): void {
    if (this.replacement) return this.replacement.pushBytes(row, buf, s, e, ascii);
    const v = parseDecimal(buf, s, e);
    if (canonical && !(this.na.numbers.size && this.na.numbers.has(v))) {
      if (row >= this.values.length) this.values = growFloat(this.values, row + 1);
      this.values[row] = v;
      return;
    }
    // A plain decimal written another way (`0.50`, `007`): the same value, its text not kept (an auto column notes that).
    if (v === v && !this.na.oddDecimals) {
      if (row >= this.values.length) this.values = growFloat(this.values, row + 1);
      this.values[row] = v;
      if (this.auto) this.lossy = true;
      return;
    }
    this.pushText(row, ascii ? latin1(buf, s, e) : utf8(buf, s, e));
  }

  pushNumber(row: number, value: number): void {
    if (this.replacement) return this.replacement.pushNumber(row, value);
    if (regular(value) && !(this.na.numbers.size && this.na.numbers.has(value))) {
      if (row >= this.values.length) this.values = growFloat(this.values, row + 1);
      this.values[row] = value;
      return;
    }
    this.pushText(row, String(value));
  }

  pushText(row: number, text: string): void {
    if (this.replacement) return this.replacement.pushText(row, text);
    if (row >= this.values.length) this.values = growFloat(this.values, row + 1);
    const v = cellNumber(text);
    this.values[row] = v;
    const isNa = this.na.has(text);
    if (!regular(v) || isNa) {
      this.raw.set(row, text);
      if (!isNa && Number.isNaN(v) && ++this.words >= 256 && this.auto && this.words * 2 > row + 1) this.becomeStrings(row);
      return;
    }
    if (String(v) === text) return;
    if (this.auto) this.lossy = true;
  }

  /** Rows [0, row] (this row's cell included) as strings, and every later cell. */
  private becomeStrings(row: number): void {
    const strings = new StringColumn(this.na);
    for (let r = 0; r <= row; r++) strings.pushText(r, this.text(r));
    strings.lossy = this.lossy;
    this.replacement = strings;
    this.values = new Float64Array(0);
    this.raw.clear();
  }

  finish(size: number, view = false): Column {
    if (this.replacement) return this.replacement.finish(size, view);
    if (!view) this.values = trimmed(this.values, size);
    return view ? Object.assign(Object.create(NumberColumn.prototype) as NumberColumn, this, { values: this.values.subarray(0, size) }) : this;
  }

  reset(): void {
    this.raw.clear();
    this.lossy = false;
    this.words = 0;
  }

  reserve(rows: number): void {
    if (rows > this.values.length) this.values = growFloat(this.values, rows);
  }
}

export class StringColumn implements ColumnBuilder {
  readonly kind = 'string' as const;
  codes: Int32Array<ArrayBuffer> = new Int32Array(0);
  readonly strings: string[] = [];
  private readonly index = new Map<string, number>();
  /** Per code: 1 missing, 0 not, by `na`. */
  private missingCodes: Uint8Array = new Uint8Array(0);
  private numbers?: Float64Array;
  lossy = false;
  /** Short cells by the hash of their bytes (open addressing): most cells of a category column are found without making a string. */
  private slots = new Int32Array(256).fill(-1);
  private slotBytes: (Buffer | undefined)[] = [];
  private filled = 0;

  constructor(private readonly na: MissingValues) {}

  text(row: number): string {
    return this.strings[this.codes[row]];
  }
  value(row: number): number {
    if (!this.numbers || this.numbers.length !== this.strings.length) this.numbers = Float64Array.from(this.strings, cellNumber);
    return this.numbers[this.codes[row]];
  }
  missing(row: number): boolean {
    return this.missingCodes[this.codes[row]] === 1;
  }
  /** Whether the cell of this code is missing. */
  missingCode(code: number): boolean {
    return this.missingCodes[code] === 1;
  }
  irregular(): number[] {
    const bad = this.strings.map((t) => this.na.has(t) || !regular(cellNumber(t)));
    const out: number[] = [];
    for (let r = 0; r < this.codes.length; r++) if (bad[this.codes[r]]) out.push(r);
    return out;
  }

  pushBytes(row: number, buf: Buffer, s: number, e: number, ascii: boolean): void {
    const n = e - s;
    if (n > 48) return this.setCode(row, this.codeFor(ascii ? latin1(buf, s, e) : utf8(buf, s, e)));
    let h = 0x811c9dc5;
    for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    const mask = this.slots.length - 1;
    let slot = h & mask;
    for (;;) {
      const code = this.slots[slot];
      if (code < 0) break;
      const known = this.slotBytes[code]!;
      if (known.length === n) {
        let same = true;
        for (let i = 0; i < n; i++) {
          if (known[i] !== buf[s + i]) {
            same = false;
            break;
          }
        }
        if (same) return this.setCode(row, code);
      }
      slot = (slot + 1) & mask;
    }
    const code = this.codeFor(ascii ? latin1(buf, s, e) : utf8(buf, s, e));
    this.setCode(row, code);
    if (this.slotBytes[code] || this.filled >= 1 << 16) return;
    this.slotBytes[code] = Buffer.from(buf.subarray(s, e));
    this.slots[slot] = code;
    if (++this.filled * 2 > this.slots.length) this.rehash();
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = this.slots.length - 1;
    this.slotBytes.forEach((bytes, code) => {
      if (!bytes) return;
      let h = 0x811c9dc5;
      for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
      let slot = h & mask;
      while (this.slots[slot] >= 0) slot = (slot + 1) & mask;
      this.slots[slot] = code;
    });
  }

  pushText(row: number, text: string): void {
    this.setCode(row, this.codeFor(text));
  }

  pushNumber(row: number, value: number): void {
    this.pushText(row, String(value));
  }

  private codeFor(text: string): number {
    let code = this.index.get(text);
    if (code === undefined) {
      code = this.strings.length;
      this.strings.push(text);
      this.index.set(text, code);
      if (code >= this.missingCodes.length) {
        const grown = new Uint8Array(Math.max(64, this.missingCodes.length * 2));
        grown.set(this.missingCodes);
        this.missingCodes = grown;
      }
      this.missingCodes[code] = this.na.has(text) ? 1 : 0;
    }
    return code;
  }

  private setCode(row: number, code: number): void {
    if (row >= this.codes.length) this.codes = growInt(this.codes, row + 1);
    this.codes[row] = code;
  }

  reserve(rows: number): void {
    if (rows > this.codes.length) this.codes = growInt(this.codes, rows);
  }

  finish(size: number, view = false): Column {
    if (view) return Object.assign(Object.create(StringColumn.prototype) as StringColumn, this, { codes: this.codes.subarray(0, size), numbers: undefined });
    this.codes = trimmed(this.codes, size);
    this.slots = new Int32Array(0);
    this.slotBytes = [];
    return this;
  }

  reset(): void {
    // Categories repeat from block to block: the dictionary stays unless it grew large (text, paths).
    if (this.strings.length <= 4096) return;
    this.strings.length = 0;
    this.index.clear();
    this.missingCodes = new Uint8Array(0);
    this.numbers = undefined;
    this.slots = new Int32Array(256).fill(-1);
    this.slotBytes = [];
    this.filled = 0;
  }
}

export function columnBuilder(hint: ColumnHint, na: MissingValues): ColumnBuilder {
  return hint === 'string' ? new StringColumn(na) : new NumberColumn(na, hint === 'auto');
}

/**
 * A table in columns. Rows are numbered 0..size-1 in file order; `lines` gives each
 * row's line (CSV: the line its record ends on, the header being line 1; JSONL: its
 * line; image folders: the file's index + 1). A table of shards (a glob) gives each
 * row's file through `shardOf`.
 */
export interface Table {
  /** The file (or the glob of shards) the table came from. */
  file: string;
  header: string[];
  size: number;
  lines: Int32Array;
  /** By header position; undefined for a column the config does not use. */
  columns: (Column | undefined)[];
  /** Shards: the files, and each row's index into them. */
  shards?: { files: string[]; of: Uint16Array };
}

/** The file a row of the table came from. */
export function fileOf(table: Table, row: number): string {
  return table.shards ? table.shards.files[table.shards.of[row]] : table.file;
}

/** What the readers fill: columns by hint, lines, and the row count; finished into a Table. */
export class TableBuilder {
  header: string[] = [];
  readonly builders: (ColumnBuilder | undefined)[] = [];
  lines: Int32Array<ArrayBuffer> = new Int32Array(0);
  size = 0;

  constructor(
    readonly file: string,
    /** How to read the column of this name; undefined: skip it. */
    private readonly hint: (name: string) => ColumnHint | undefined,
    readonly na: MissingValues,
  ) {}

  setHeader(header: string[]): void {
    this.header = [];
    for (const name of header) this.addColumn(name);
  }

  /** A column first seen at this row (JSONL): the rows before it lack it. Returns its index. */
  addColumn(name: string): number {
    const hint = this.hint(name);
    const builder = hint ? columnBuilder(hint, this.na) : undefined;
    for (let r = 0; r < this.size; r++) builder?.pushText(r, MISSING_CELL);
    this.header.push(name);
    this.builders.push(builder);
    return this.header.length - 1;
  }

  /** The builder of column c for the current row (an auto column that turned into strings hands over). */
  column(c: number): ColumnBuilder | undefined {
    const b = this.builders[c];
    if (b instanceof NumberColumn && b.replacement) return (this.builders[c] = b.replacement);
    return b;
  }

  /** Room for about `rows` rows in every column. */
  reserve(rows: number): void {
    if (rows > this.lines.length) this.lines = growInt(this.lines, rows);
    for (const b of this.builders) b?.reserve(rows);
  }

  endRow(line: number): void {
    if (this.size >= this.lines.length) this.lines = growInt(this.lines, this.size + 1);
    this.lines[this.size++] = line;
  }

  /** view: the columns are views of the builder's storage, valid until reset (streamed blocks). */
  finish(view = false): Table {
    const columns = this.builders.map((b) => b?.finish(this.size, view));
    return { file: this.file, header: this.header, size: this.size, lines: trimmed(this.lines, this.size, view), columns };
  }

  /** Empty again for the next block, keeping every column's storage. */
  reset(file: string): void {
    (this as { file: string }).file = file;
    this.size = 0;
    for (const b of this.builders) b?.reset();
  }
}
