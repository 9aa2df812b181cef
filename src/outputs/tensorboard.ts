/**
 * TensorBoard scalars without TensorFlow: an events.out.tfevents.* file is a
 * TFRecord stream (length, masked CRC-32C of the length, data, masked CRC-32C of
 * the data) of serialized `Event` protos, encoded here by hand. One scalar per
 * logged key (tag) and epoch (step). Records are appended and fsynced, so a crash
 * leaves at most a partial last record, which TensorBoard skips.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC32C_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masking, so CRCs of data that holds CRCs stay strong. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

function varint(value: number): number[] {
  const out: number[] = [];
  let v = BigInt(value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

function lengthDelimited(field: number, bytes: Uint8Array | number[]): number[] {
  return [(field << 3) | 2, ...varint(bytes.length), ...bytes];
}

/** Event { wall_time = 1 (double); step = 2 (int64); file_version = 3 | summary = 5 }. */
export function encodeEvent(wallTime: number, step: number, content: { fileVersion: string } | { scalars: Record<string, number> }): Uint8Array {
  const time = Buffer.alloc(8);
  time.writeDoubleLE(wallTime);
  const bytes: number[] = [(1 << 3) | 1, ...time, (2 << 3) | 0, ...varint(step)];
  if ('fileVersion' in content) {
    bytes.push(...lengthDelimited(3, Buffer.from(content.fileVersion)));
  } else {
    // Summary { repeated Value value = 1 }, Value { tag = 1 (string); simple_value = 2 (float) }
    const summary: number[] = [];
    for (const [tag, value] of Object.entries(content.scalars)) {
      const f = Buffer.alloc(4);
      f.writeFloatLE(value);
      summary.push(...lengthDelimited(1, [...lengthDelimited(1, Buffer.from(tag)), (2 << 3) | 5, ...f]));
    }
    bytes.push(...lengthDelimited(5, summary));
  }
  return Uint8Array.from(bytes);
}

export function tfRecord(data: Uint8Array): Buffer {
  const header = Buffer.alloc(12);
  header.writeBigUInt64LE(BigInt(data.length));
  header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(4);
  footer.writeUInt32LE(maskedCrc32c(data));
  return Buffer.concat([header, data, footer]);
}

export class TensorBoardWriter {
  readonly file: string;

  constructor(dir: string, now = Date.now()) {
    mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, `events.out.tfevents.${Math.floor(now / 1000)}.${hostname()}.${process.pid}`);
    this.append([tfRecord(encodeEvent(now / 1000, 0, { fileVersion: 'brain.Event:2' }))]);
  }

  /** One event per epoch holding every finite scalar of the row. */
  writeScalars(step: number, scalars: Record<string, number>): void {
    const finite = Object.fromEntries(Object.entries(scalars).filter(([, v]) => Number.isFinite(v)));
    this.append([tfRecord(encodeEvent(Date.now() / 1000, step, { scalars: finite }))]);
  }

  private append(records: Buffer[]): void {
    const fd = openSync(this.file, 'a');
    try {
      for (const r of records) writeSync(fd, r);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
