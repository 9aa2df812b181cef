/** JSON Lines files as a table: the keys are the columns, in order of first appearance; read line by line in chunks. */
import { DataError } from '../errors';
import { ChunkedFile, type FilePosition } from './chunked-file';
import { LIST_CELL, MISSING_CELL, type TableBuilder } from './columns';

export { LIST_CELL, MISSING_CELL };

export class JsonlReader {
  readonly chunks: ChunkedFile;

  constructor(
    readonly file: string,
    key: string,
    chunkBytes?: number,
  ) {
    this.chunks = new ChunkedFile(file, key, chunkBytes);
  }

  /**
   * Reads up to `max` objects into `into`: a key not seen before adds a column (unless
   * `fixed`: then only the builder's columns are read), an absent key or null is MISSING_CELL.
   */
  read(into: TableBuilder, max: number, fixed = false): number {
    const f = this.chunks;
    let n = 0;
    const columnOf = new Map(into.header.map((name, i) => [name, i]));
    while (n < max) {
      let nl = f.buf.indexOf(10, f.start);
      if (nl >= f.end) nl = -1;
      if (nl < 0 && !f.eof) {
        f.more();
        continue;
      }
      const stop = nl < 0 ? f.end : nl;
      if (stop <= f.start && nl < 0) break;
      const lineNo = f.line + 1;
      const source = f.buf.toString('utf8', f.start, stop).trim();
      f.start = nl < 0 ? f.end : nl + 1;
      f.line++;
      if (source === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(source);
      } catch (e) {
        throw new DataError(`${this.file}:${lineNo}: not valid JSON (${(e as Error).message})`, 'each line of a JSONL file must be one JSON object');
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new DataError(`${this.file}:${lineNo}: expected a JSON object, found ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`, 'each line of a JSONL file must be one JSON object, e.g. {"x": 1.5, "label": "a"}');
      }
      const object = value as Record<string, unknown>;
      const row = into.size;
      for (const column of Object.keys(object)) {
        let c = columnOf.get(column);
        if (c === undefined) {
          if (fixed) {
            checkCell(this.file, lineNo, column, object[column]);
            continue;
          }
          c = into.addColumn(column);
          columnOf.set(column, c);
        }
        const builder = into.column(c);
        const cell = object[column];
        if (!builder) {
          checkCell(this.file, lineNo, column, cell);
          continue;
        }
        if (cell === null || cell === undefined) builder.pushText(row, MISSING_CELL);
        else if (typeof cell === 'string') builder.pushText(row, cell.trim());
        else if (typeof cell === 'number') builder.pushNumber(row, cell);
        else if (typeof cell === 'boolean') builder.pushText(row, String(cell));
        else {
          checkCell(this.file, lineNo, column, cell);
          builder.pushText(row, LIST_CELL + JSON.stringify(cell));
        }
      }
      // Keys this object lacks are missing.
      into.header.forEach((name, c) => {
        if (!(name in object)) into.column(c)?.pushText(row, MISSING_CELL);
      });
      into.endRow(lineNo);
      n++;
    }
    return n;
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
}

/** A cell must be one number, string or boolean, or (a multilabel task's) a flat array of them. */
function checkCell(file: string, line: number, column: string, cell: unknown): void {
  if (cell === null || typeof cell !== 'object') return;
  if (Array.isArray(cell) && cell.every((v) => typeof v === 'string' || typeof v === 'number')) return;
  throw new DataError(`${file}:${line}: key "${column}" holds ${Array.isArray(cell) ? 'an array' : 'an object'}; a column holds one number or string per row`, `flatten "${column}" into one key per value`);
}
