/**
 * Crash-safe file writes: a reader sees the old file or the new one, never half of
 * one. Data goes to a temporary file in the same folder, is fsynced, then renamed
 * over the target; the folder is fsynced so the rename itself survives power loss.
 */
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

let counter = 0;
const TMP_MARK = '.tmp-';

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}${TMP_MARK}${process.pid}-${counter++}`;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fd = openSync(tmp, 'w');
  try {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

/** writeFileAtomic for output written piece by piece (predictions of a file read block by block). */
export class AtomicWriter {
  private readonly tmp: string;
  private fd: number;
  constructor(readonly file: string) {
    this.tmp = `${file}${TMP_MARK}${process.pid}-${counter++}`;
    this.fd = openSync(this.tmp, 'w');
  }
  write(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
  }
  /** The file now holds everything written. */
  commit(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
    renameSync(this.tmp, this.file);
    fsyncDir(path.dirname(this.file));
  }
  /** Nothing written: the file stays as it was. */
  abort(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    rmSync(this.tmp, { force: true });
  }
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Removes temporary files left in `dir` by a process that died mid-write. */
export function removeStaleTempFiles(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (name.includes(TMP_MARK)) rmSync(path.join(dir, name), { force: true });
  }
}
