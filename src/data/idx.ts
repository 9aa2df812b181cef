/**
 * IDX files (the MNIST / Fashion-MNIST format), gzipped or not: two zero bytes, a
 * type code, the number of dimensions, big-endian uint32 sizes, big-endian values.
 */
import { closeSync, createReadStream, createWriteStream, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { constants, createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import { DataError } from '../errors';
import { writeFileAtomic } from '../outputs/atomic';
import { maybeGunzip, readDataFile, statDataFile, unreadable } from './files';

export type IdxType = 'ubyte' | 'sbyte' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  type: IdxType;
  dims: number[];
  data: IdxData;
}

const types: Record<number, { type: IdxType; bytes: number }> = {
  0x08: { type: 'ubyte', bytes: 1 },
  0x09: { type: 'sbyte', bytes: 1 },
  0x0b: { type: 'int16', bytes: 2 },
  0x0c: { type: 'int32', bytes: 4 },
  0x0d: { type: 'float32', bytes: 4 },
  0x0e: { type: 'float64', bytes: 8 },
};
const codes = Object.fromEntries(Object.entries(types).map(([code, t]) => [t.type, Number(code)])) as Record<IdxType, number>;

/** The header of IDX bytes: type, dims, and where the values start; `length` (the file's): checked against them. */
function idxHeader(bytes: Buffer, file: string, key: string, length?: number): { type: IdxType; size: number; dims: number[]; headerBytes: number } {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || !types[bytes[2]] || bytes[3] === 0) {
    throw new DataError(`${file}: not an IDX file (bad magic number ${bytes.subarray(0, 4).toString('hex')})`, `${key} must be an IDX file such as train-images-idx3-ubyte.gz`);
  }
  const { type, bytes: size } = types[bytes[2]];
  const ndims = bytes[3];
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) throw new DataError(`${file}: truncated IDX header (${bytes.length} bytes)`, 'the file is incomplete; copy it again');
  const dims = Array.from({ length: ndims }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
  if (length !== undefined) {
    const expected = headerBytes + dims.reduce((a, b) => a * b, 1) * size;
    if (length !== expected) {
      throw new DataError(
        `${file}: IDX size mismatch: the header promises ${dims.join(' x ')} ${type} values (${expected} bytes), the file has ${length}`,
        length < expected ? 'the file is truncated; copy it again' : 'the file has trailing data; it is not a valid IDX file',
      );
    }
  }
  return { type, size, dims, headerBytes };
}

/** The values of IDX body bytes (big-endian) as a typed array. */
function idxValues(type: IdxType, body: Uint8Array, count: number): IdxData {
  switch (type) {
    case 'ubyte':
      return new Uint8Array(body);
    case 'sbyte':
      return new Int8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
    default: {
      const view = new DataView(body.buffer, body.byteOffset, body.length);
      const read = {
        int16: (i: number) => view.getInt16(i * 2),
        int32: (i: number) => view.getInt32(i * 4),
        float32: (i: number) => view.getFloat32(i * 4),
        float64: (i: number) => view.getFloat64(i * 8),
      }[type];
      const Ctor = { int16: Int16Array, int32: Int32Array, float32: Float32Array, float64: Float64Array }[type];
      const out = new Ctor(count);
      for (let i = 0; i < count; i++) out[i] = read(i);
      return out;
    }
  }
}

/** The type and dims of an IDX file from its first bytes (gzipped or not), without reading the rest; undefined when it cannot be read. */
export function peekIdx(file: string): { type: IdxType; dims: number[] } | undefined {
  try {
    const fd = openSync(file, 'r');
    const head = Buffer.alloc(1 << 16);
    let n: number;
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    let bytes = head.subarray(0, n);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH });
    const { type, dims } = idxHeader(bytes, file, 'data');
    return { type, dims };
  } catch {
    return undefined;
  }
}

/**
 * An IDX file read by offset instead of whole (data larger than memory): its header,
 * then any range of its items (the rows of its first dimension). A gzipped file is
 * first unpacked, in a stream, to a temporary file, removed when the process exits.
 */
const unpackedCopies = new Set<string>();

/** One exit listener for every unpacked copy (a listener each would pile up in a process that opens many). */
function removeAtExit(file: string): void {
  if (unpackedCopies.size === 0) process.once('exit', () => unpackedCopies.forEach((f) => rmSync(f, { force: true })));
  unpackedCopies.add(file);
}

export class IdxFile {
  private fd = -1;

  private constructor(
    readonly file: string,
    /** What is read: the file, or its unpacked copy. */
    readonly path: string,
    readonly type: IdxType,
    readonly dims: number[],
    private readonly headerBytes: number,
    readonly valueBytes: number,
    /** Bytes of the unpacked copy (0: the file is read as it is). */
    readonly unpacked: number,
  ) {}

  static async open(file: string, key: string): Promise<IdxFile> {
    const size = statDataFile(file, key);
    if (size === 0) throw new DataError(`${file}: the file is empty (from ${key})`, 'point the config at a file with data');
    let head: Buffer;
    try {
      const fd = openSync(file, 'r');
      head = Buffer.alloc(2);
      readSync(fd, head, 0, 2, 0);
      closeSync(fd);
    } catch (e) {
      throw unreadable(file, e);
    }
    let source = file;
    let length = size;
    let unpacked = 0;
    if (head[0] === 0x1f && head[1] === 0x8b) {
      source = path.join(tmpdir(), `mtl-idx-${process.pid}-${Math.random().toString(36).slice(2)}-${path.basename(file).replace(/\.gz$/i, '')}`);
      removeAtExit(source);
      try {
        await pipeline(createReadStream(file), createGunzip(), createWriteStream(source));
      } catch (e) {
        rmSync(source, { force: true });
        throw new DataError(`${file}: gzip data is corrupt or truncated (${(e as Error).message})`, 'download or copy the file again');
      }
      length = unpacked = statDataFile(source, key);
    }
    const fd = openSync(source, 'r');
    const bytes = Buffer.alloc(Math.min(length, 4 + 4 * 255));
    readSync(fd, bytes, 0, bytes.length, 0);
    closeSync(fd);
    const { type, size: valueBytes, dims, headerBytes } = idxHeader(bytes, file, key, length);
    return new IdxFile(file, source, type, dims, headerBytes, valueBytes, unpacked);
  }

  /** Values per item (the product of the dims after the first). */
  get itemValues(): number {
    return this.dims.slice(1).reduce((a, b) => a * b, 1);
  }

  /** The values of items [first, first + count). */
  read(first: number, count: number): IdxData {
    if (this.fd < 0) this.fd = openSync(this.path, 'r');
    const values = count * this.itemValues;
    const body = Buffer.allocUnsafe(values * this.valueBytes);
    const offset = this.headerBytes + first * this.itemValues * this.valueBytes;
    let at = 0;
    while (at < body.length) {
      const n = readSync(this.fd, body, at, body.length - at, offset + at);
      if (n === 0) throw new DataError(`${this.file}: the file changed while it was read (it ends before image ${first + count})`, 'do not change the data files during a run; restart it');
      at += n;
    }
    return idxValues(this.type, body, values);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Reads an IDX file (gzipped or not: the gzip magic number decides); `key` names it in errors. */
export function readIdx(file: string, key = 'data'): IdxArray {
  const bytes = maybeGunzip(readDataFile(file, key), file);
  const { type, dims, headerBytes } = idxHeader(bytes, file, key, bytes.length);
  const count = dims.reduce((a, b) => a * b, 1);
  return { type, dims, data: idxValues(type, bytes.subarray(headerBytes), count) };
}

/** Writes an IDX file atomically; gzipped when `gzip` is set. */
export function writeIdx(file: string, array: IdxArray, options: { gzip?: boolean } = {}): void {
  const size = types[codes[array.type]].bytes;
  const count = array.dims.reduce((a, b) => a * b, 1);
  if (count !== array.data.length) throw new Error(`writeIdx ${file}: dims ${array.dims.join(' x ')} need ${count} values, got ${array.data.length}`);
  const header = Buffer.alloc(4 + 4 * array.dims.length);
  header[2] = codes[array.type];
  header[3] = array.dims.length;
  array.dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  const body = encodeValues(array, size);
  const bytes = Buffer.concat([header, body]);
  writeFileAtomic(file, options.gzip ? gzipSync(bytes) : bytes);
}

/** The values, big-endian. */
function encodeValues(array: IdxArray, size: number): Buffer {
  const { data, type } = array;
  if (size === 1 && data.BYTES_PER_ELEMENT === 1) return Buffer.from(data.buffer, data.byteOffset, data.length);
  const body = Buffer.alloc(data.length * size);
  const write = {
    ubyte: (v: number, i: number) => body.writeUInt8(v, i),
    sbyte: (v: number, i: number) => body.writeInt8(v, i),
    int16: (v: number, i: number) => body.writeInt16BE(v, i * 2),
    int32: (v: number, i: number) => body.writeInt32BE(v, i * 4),
    float32: (v: number, i: number) => body.writeFloatBE(v, i * 4),
    float64: (v: number, i: number) => body.writeDoubleBE(v, i * 8),
  }[type];
  for (let i = 0; i < data.length; i++) write(data[i], i);
  return body;
}
