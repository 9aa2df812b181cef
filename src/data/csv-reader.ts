/**
 * A streaming CSV parser over a ChunkedFile: RFC 4180 quoting (`""` inside quotes),
 * cells trimmed of spaces around them, blank lines skipped, \n or \r\n line ends, a
 * UTF-8 BOM dropped. Cells go straight into the table's column builders as bytes (a
 * number column parses most cells without making a string), so a file is never held
 * as text or as row objects. Errors name the file and line as csv-parse did before.
 */
import { DataError } from '../errors';
import { ChunkedFile, type FilePosition } from './chunked-file';
import type { TableBuilder } from './columns';

const QUOTE = 34;
const NL = 10;
const CR = 13;

export class CsvReader {
  readonly chunks: ChunkedFile;
  private readonly delim: number;
  private readonly tabIsSpace: boolean;
  private readonly special: Uint8Array;
  /** Cells of the record just read, when reading the header. */
  private cells: string[] = [];
  /** Cells and closing line of the last complete record. */
  private count = 0;
  private recordLine = 0;

  constructor(
    readonly file: string,
    key: string,
    delimiter: string,
    chunkBytes?: number,
  ) {
    this.chunks = new ChunkedFile(file, key, chunkBytes);
    this.delim = delimiter.charCodeAt(0);
    this.tabIsSpace = this.delim !== 9;
    this.special = new Uint8Array(256);
    this.special.fill(3, 128);
    this.special[this.delim] = this.special[NL] = this.special[CR] = 1;
    this.special[QUOTE] = 2;
  }

  /** The first record as names, with the checks of a header row. */
  readHeader(): string[] {
    if (!this.next(null)) throw new DataError(`${this.file}: the file is empty`, 'a CSV file needs a header row and data rows');
    const header = this.cells.slice();
    const seen = new Set<string>();
    header.forEach((name, i) => {
      if (!name) throw new DataError(`${this.file}:1: column ${i + 1} of the header has no name`, 'give every column a name in the header row');
      if (seen.has(name)) throw new DataError(`${this.file}:1: column "${name}" appears twice in the header`, 'column names must be unique');
      seen.add(name);
    });
    return header;
  }

  /** Reads up to `max` data records into `into` (whose header is set); returns how many. */
  read(into: TableBuilder, max: number): number {
    const width = into.header.length;
    let n = 0;
    while (n < max && this.next(into)) {
      if (this.count !== width) {
        throw new DataError(
          `${this.file}:${this.recordLine}: expected ${width} cells (as in the header), found ${this.count}`,
          'every row needs one cell per header column; check for a missing or extra delimiter',
        );
      }
      into.endRow(this.recordLine);
      n++;
    }
    return n;
  }

  /** About how many records the rest of the file holds, from the lines in the bytes read so far. */
  estimateRecords(): number {
    const f = this.chunks;
    let lines = 0;
    for (let i = f.buf.indexOf(NL, f.start); i >= 0 && i < f.end; i = f.buf.indexOf(NL, i + 1)) lines++;
    if (f.eof) return lines + 1;
    const bytes = f.end - f.start;
    return lines ? Math.ceil(((f.size - f.base - f.start) * lines * 1.02) / bytes) : 0;
  }

  position(): FilePosition {
    return this.chunks.position();
  }

  seek(position: FilePosition): void {
    this.chunks.seek(position);
  }

  close(): void {
    this.chunks.close();
  }

  /** The next record (into the builders, or into `cells` for the header); false at the end of the file. */
  private next(into: TableBuilder | null): boolean {
    for (;;) {
      const r = this.record(into);
      if (r === 1) return true;
      if (r === -1) return false;
      if (!this.chunks.more()) {
        // Nothing more to read and still incomplete cannot happen: at eof record() completes or throws.
        return false;
      }
    }
  }

  private invalid(line: number, message: string): DataError {
    return new DataError(`${this.file}:${line}: not valid CSV (${message})`, 'check quoting and delimiters near that line');
  }

  /** 1: a record was read; 0: more bytes are needed (nothing is kept of the partial record); -1: the end of the file. */
  private record(into: TableBuilder | null): number {
    const f = this.chunks;
    const buf = f.buf;
    const end = f.end;
    const eof = f.eof;
    const delim = this.delim;
    const tabIsSpace = this.tabIsSpace;
    let p = f.start;
    let line = f.line;
    // Blank lines (empty or only spaces) are skipped.
    for (;;) {
      let q = p;
      while (q < end && (buf[q] === 32 || (buf[q] === 9 && tabIsSpace))) q++;
      if (q >= end) {
        if (!eof) {
          f.start = p;
          f.line = line;
          return 0;
        }
        f.start = q;
        f.line = line;
        return -1;
      }
      const b = buf[q];
      if (b === NL) {
        line++;
        p = q + 1;
        continue;
      }
      if (b === CR) {
        if (q + 1 >= end && !eof) {
          f.start = p;
          f.line = line;
          return 0;
        }
        line++;
        p = buf[q + 1] === NL ? q + 2 : q + 1;
        continue;
      }
      break;
    }
    f.start = p;
    f.line = line;
    const row = into ? into.size : 0;
    const builders = into?.builders;
    const cells = this.cells;
    if (!into) cells.length = 0;
    let c = 0;
    for (;;) {
      while (p < end && (buf[p] === 32 || (buf[p] === 9 && tabIsSpace))) p++;
      let s: number;
      let e: number;
      let ascii = true;
      let text: string | undefined;
      if (p < end && buf[p] === QUOTE) {
        const opened = line + 1;
        p++;
        s = p;
        let escaped = false;
        for (;;) {
          let q = buf.indexOf(QUOTE, p);
          if (q >= end) q = -1;
          if (q < 0) {
            if (!eof) return 0;
            throw this.invalid(opened, `Quote Not Closed: the parsing is finished with an opening quote at line ${opened}`);
          }
          for (let i = p; i < q; i++) {
            const b = buf[i];
            if (b === NL) line++;
            else if (b >= 128) ascii = false;
          }
          if (q + 1 >= end && !eof) return 0;
          if (q + 1 < end && buf[q + 1] === QUOTE) {
            escaped = true;
            p = q + 2;
            continue;
          }
          e = q;
          p = q + 1;
          break;
        }
        while (p < end && (buf[p] === 32 || (buf[p] === 9 && tabIsSpace))) p++;
        if (p >= end && !eof) return 0;
        if (p < end && buf[p] !== delim && buf[p] !== NL && buf[p] !== CR) {
          throw this.invalid(line + 1, `Invalid Closing Quote: found non trimable byte after quote at line ${line + 1}`);
        }
        if (escaped) text = buf.toString('utf8', s, e).replace(/""/g, '"');
      } else {
        s = p;
        const special = this.special;
        for (;;) {
          if (p >= end) {
            if (!eof) return 0;
            break;
          }
          const b = buf[p];
          // One table lookup a byte: 0 ordinary, 1 the end of the cell, 2 a quote, 3 not ASCII.
          const k = special[b];
          if (k !== 0) {
            if (k === 1) break;
            if (k === 2) throw this.invalid(line + 1, `Invalid Opening Quote: a quote is found on field ${c} at line ${line + 1}, value is "${buf.toString('utf8', s, p)}"`);
            ascii = false;
          }
          p++;
        }
        e = p;
        while (e > s && (buf[e - 1] === 32 || (buf[e - 1] === 9 && tabIsSpace))) e--;
      }
      if (into) {
        // The builder itself (an auto column that turned into strings hands its cells on).
        const column = builders![c];
        if (column) {
          if (text !== undefined) column.pushText(row, text);
          else column.pushBytes(row, buf, s, e, ascii);
        }
      } else {
        cells.push(text ?? buf.toString('utf8', s, e));
      }
      c++;
      if (p >= end) break;
      const b = buf[p];
      if (b === delim) {
        p++;
        continue;
      }
      if (b === CR) {
        if (p + 1 >= end && !eof) return 0;
        p = buf[p + 1] === NL ? p + 2 : p + 1;
      } else {
        p++;
      }
      line++;
      this.count = c;
      this.recordLine = line;
      f.start = p;
      f.line = line;
      return 1;
    }
    // The last record, ended by the end of the file.
    this.count = c;
    this.recordLine = line + 1;
    f.start = p;
    f.line = line;
    return 1;
  }
}
