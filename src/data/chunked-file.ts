/**
 * A text file read in chunks (4 MB by default) rather than whole: the window of bytes
 * the table readers parse, refilled as they go, checked to be UTF-8 line by line, with
 * the byte offset and line count of the next record so a stream can stop and resume
 * exactly there.
 */
import { isUtf8 } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';
import { DataError } from '../errors';
import { statDataFile, unreadable } from './files';

/** Where a reader stands: the byte offset of the next record and the lines before it. */
export interface FilePosition {
  offset: number;
  line: number;
}

export const CHUNK_BYTES = 1 << 22;

/** Opens `file` with the errors readDataFile gives (no such file, a directory, empty); returns its size. */
export function openDataFile(file: string, key: string): { fd: number; size: number } {
  const size = statDataFile(file, key);
  try {
    return { fd: openSync(file, 'r'), size };
  } catch (e) {
    throw unreadable(file, e);
  }
}

export class ChunkedFile {
  buf: Buffer;
  /** Valid bytes are buf[start, end); buf[0] is at `base` in the file. */
  start = 0;
  end = 0;
  base = 0;
  eof = false;
  /** Lines (newlines) before buf[start]. */
  line = 0;
  readonly size: number;
  private fd: number;
  /** Bytes before this offset (in buf) were checked to be UTF-8. */
  private checked = 0;

  constructor(
    readonly file: string,
    key: string,
    chunkBytes = CHUNK_BYTES,
  ) {
    const { fd, size } = openDataFile(file, key);
    this.fd = fd;
    this.size = size;
    this.buf = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(size + 1, 1 << 16)));
    this.fill();
    if (this.end === 0) {
      this.close();
      throw new DataError(`${file}: the file is empty (from ${key})`, 'point the config at a file with data');
    }
    if (this.end >= 3 && this.buf[0] === 0xef && this.buf[1] === 0xbb && this.buf[2] === 0xbf) this.start = 3;
  }

  /** The offset and line of buf[at] (a record's start). */
  position(at = this.start, line = this.line): FilePosition {
    return { offset: this.base + at, line };
  }

  /** Continues from a position another reader of the same file reported. */
  seek(position: FilePosition): void {
    this.base = position.offset;
    this.start = this.end = this.checked = 0;
    this.line = position.line;
    this.eof = false;
    this.fill();
  }

  /**
   * Keeps buf[start, end) and reads more after it (moving it to the front, growing the
   * buffer when one record fills it). False at the end of the file.
   */
  more(): boolean {
    if (this.eof) return false;
    if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.base += this.start;
      this.end -= this.start;
      this.checked = Math.max(0, this.checked - this.start);
      this.start = 0;
    }
    if (this.end === this.buf.length) {
      const grown = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(grown, 0, 0, this.end);
      this.buf = grown;
    }
    this.fill();
    return true;
  }

  private fill(): void {
    while (this.end < this.buf.length) {
      let n: number;
      try {
        n = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, this.base + this.end);
      } catch (e) {
        this.close();
        throw new DataError(`${this.file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'check the file permissions');
      }
      if (n === 0) {
        this.eof = true;
        break;
      }
      this.end += n;
    }
    // Whole lines only: a newline byte is never part of a multi-byte character.
    const upTo = this.eof ? this.end : this.buf.lastIndexOf(10, this.end - 1) + 1;
    if (upTo > this.checked) {
      if (!isUtf8(this.buf.subarray(this.checked, upTo))) this.notUtf8(upTo);
      this.checked = upTo;
    }
  }

  private notUtf8(upTo: number): never {
    let line = this.line + 1;
    for (let i = this.start; i < this.checked; i++) if (this.buf[i] === 10) line++;
    let from = this.checked;
    while (from < upTo) {
      const nl = this.buf.indexOf(10, from);
      const to = nl < 0 || nl >= upTo ? upTo : nl;
      if (!isUtf8(this.buf.subarray(from, to))) break;
      from = to + 1;
      line++;
    }
    throw new DataError(`${this.file}:${line}: holds bytes that are not UTF-8`, 'save the file as UTF-8 (for example: iconv -f latin1 -t utf-8 in.csv > out.csv)');
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
