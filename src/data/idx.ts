/**
 * IDX files (the MNIST / Fashion-MNIST format), gzipped or not: two zero bytes, a
 * type code, the number of dimensions, big-endian uint32 sizes, big-endian values.
 */
import { gzipSync } from 'node:zlib';
import { DataError } from '../errors';
import { writeFileAtomic } from '../outputs/atomic';
import { maybeGunzip, readDataFile } from './files';

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

/** Reads an IDX file (gzipped or not: the gzip magic number decides); `key` names it in errors. */
export function readIdx(file: string, key = 'data'): IdxArray {
  const bytes = maybeGunzip(readDataFile(file, key), file);
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || !types[bytes[2]] || bytes[3] === 0) {
    throw new DataError(`${file}: not an IDX file (bad magic number ${bytes.subarray(0, 4).toString('hex')})`, `${key} must be an IDX file such as train-images-idx3-ubyte.gz`);
  }
  const { type, bytes: size } = types[bytes[2]];
  const ndims = bytes[3];
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) throw new DataError(`${file}: truncated IDX header (${bytes.length} bytes)`, 'the file is incomplete; copy it again');
  const dims = Array.from({ length: ndims }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * size;
  if (bytes.length !== expected) {
    throw new DataError(
      `${file}: IDX size mismatch: the header promises ${dims.join(' x ')} ${type} values (${expected} bytes), the file has ${bytes.length}`,
      bytes.length < expected ? 'the file is truncated; copy it again' : 'the file has trailing data; it is not a valid IDX file',
    );
  }
  const body = bytes.subarray(headerBytes);
  let data: IdxData;
  switch (type) {
    case 'ubyte':
      data = new Uint8Array(body);
      break;
    case 'sbyte':
      data = new Int8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
      break;
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
      data = out;
    }
  }
  return { type, dims, data };
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
