/** Reading an input file with errors that say which file, from which config key, and why. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../errors';

/** The size of a data file, or the error naming it and `key` (no such file, a directory). */
export function statDataFile(file: string, key: string): number {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    throw new DataError(`${file}: no such file (from ${key})`, `check ${key} in the config; relative paths are relative to the config file`);
  }
  if (stat.isDirectory()) throw new DataError(`${file}: is a directory, expected a file (from ${key})`, `point ${key} at a file inside it`);
  return stat.size;
}

/** The error for a file that exists but cannot be read. */
export function unreadable(file: string, e: unknown): DataError {
  return new DataError(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'check the file permissions');
}

/** The raw bytes of a data file; `key` names where it came from (e.g. `data.path`). */
export function readDataFile(file: string, key: string): Buffer {
  statDataFile(file, key);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw unreadable(file, e);
  }
  if (bytes.length === 0) throw new DataError(`${file}: the file is empty (from ${key})`, 'point the config at a file with data');
  return bytes;
}

/** Gunzips when the bytes start with the gzip magic number, whatever the file is called. */
export function maybeGunzip(bytes: Buffer, file: string): Buffer {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes);
    } catch (e) {
      throw new DataError(`${file}: gzip data is corrupt or truncated (${(e as Error).message})`, 'download or copy the file again');
    }
  }
  return bytes;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A text file's bytes as a string; bytes that are not UTF-8 are an error naming the line. */
export function decodeUtf8(bytes: Buffer, file: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    let start = 0;
    for (let line = 1; start <= bytes.length; line++) {
      const end = bytes.indexOf(0x0a, start);
      const stop = end < 0 ? bytes.length : end;
      try {
        utf8.decode(bytes.subarray(start, stop));
      } catch {
        throw new DataError(`${file}:${line}: holds bytes that are not UTF-8`, 'save the file as UTF-8 (for example: iconv -f latin1 -t utf-8 in.csv > out.csv)');
      }
      start = stop + 1;
    }
    throw new DataError(`${file}: holds bytes that are not UTF-8`, 'save the file as UTF-8');
  }
}

/** Whether a path is a glob (`*`, `?` or `[...]` in it). */
export function isGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

function segmentRegex(segment: string): RegExp {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 1);
      if (close < 0) out += '\\[';
      else {
        const body = segment.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        out += `[${body}]`;
        i = close;
      }
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/**
 * The files a glob names (`data/part-*.csv`, `shards/*\/train-?.jsonl`: wildcards in any
 * folder or file name, no `**`), sorted by path; a DataError when none match.
 */
export function expandGlob(pattern: string, key: string): string[] {
  const absolute = path.isAbsolute(pattern);
  const segments = pattern.split(/[\\/]+/).filter((s, i) => s !== '' || i === 0);
  let bases = [absolute ? path.parse(pattern).root : '.'];
  for (const segment of segments.slice(absolute ? 1 : 0)) {
    if (!isGlob(segment)) {
      bases = bases.map((b) => path.join(b, segment)).filter((b) => existsSync(b));
      continue;
    }
    const re = segmentRegex(segment);
    bases = bases.flatMap((b) => {
      try {
        return readdirSync(b)
          .filter((name) => re.test(name))
          .map((name) => path.join(b, name));
      } catch {
        return [];
      }
    });
  }
  const files = bases.filter((f) => statSync(f).isFile()).sort();
  if (files.length === 0) throw new DataError(`${pattern}: no file matches this glob (from ${key})`, `check ${key}; relative paths are relative to the config file`);
  return files;
}
