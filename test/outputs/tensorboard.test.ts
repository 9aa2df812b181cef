import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { trainCommand } from '../../src/api/train';
import { crc32c, maskedCrc32c } from '../../src/outputs/tensorboard';
import { silentProgress } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { repoRoot, tempDir } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

test('CRC-32C matches the standard check value', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa, 'RFC 3720 test vector: 32 zero bytes');
});

/** A minimal reader: TFRecord framing with CRC checks, then the Event fields mtl writes. */
function readEvents(file: string): { step: number; fileVersion?: string; scalars: Record<string, number> }[] {
  const bytes = readFileSync(file);
  const events = [];
  let off = 0;
  while (off < bytes.length) {
    const length = Number(bytes.readBigUInt64LE(off));
    assert.equal(bytes.readUInt32LE(off + 8), maskedCrc32c(bytes.subarray(off, off + 8)), 'length CRC');
    const data = bytes.subarray(off + 12, off + 12 + length);
    assert.equal(bytes.readUInt32LE(off + 12 + length), maskedCrc32c(data), 'data CRC');
    off += 16 + length;
    events.push(decodeEvent(data));
  }
  return events;
}

function readVarint(b: Buffer, pos: { i: number }): number {
  let shift = 0;
  let value = 0;
  for (;;) {
    const byte = b[pos.i++];
    value += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) return value;
    shift += 7;
  }
}

function fields(b: Buffer): [number, Buffer | number][] {
  const out: [number, Buffer | number][] = [];
  const pos = { i: 0 };
  while (pos.i < b.length) {
    const key = readVarint(b, pos);
    const type = key & 7;
    if (type === 0) out.push([key >> 3, readVarint(b, pos)]);
    else if (type === 1) (out.push([key >> 3, b.subarray(pos.i, pos.i + 8)]), (pos.i += 8));
    else if (type === 5) (out.push([key >> 3, b.subarray(pos.i, pos.i + 4)]), (pos.i += 4));
    else {
      const n = readVarint(b, pos);
      out.push([key >> 3, b.subarray(pos.i, pos.i + n)]);
      pos.i += n;
    }
  }
  return out;
}

function decodeEvent(data: Buffer) {
  const event: { step: number; fileVersion?: string; scalars: Record<string, number> } = { step: 0, scalars: {} };
  for (const [field, value] of fields(data)) {
    if (field === 2) event.step = value as number;
    if (field === 3) event.fileVersion = (value as Buffer).toString();
    if (field === 5) {
      for (const [, v] of fields(value as Buffer)) {
        const parts = Object.fromEntries(fields(v as Buffer));
        event.scalars[(parts[1] as Buffer).toString()] = (parts[2] as Buffer).readFloatLE(0);
      }
    }
  }
  return event;
}

test('--tensorboard writes one scalar per metric and epoch; --report writes report.html', async () => {
  const out = path.join(tempDir(), 'run');
  await trainCommand({ config: path.join(repoRoot, 'configs', 'penguins.yaml'), out, epochs: 3, tensorboard: true, report: true }, captureOutput(), silentProgress);
  const dir = path.join(out, 'tensorboard');
  const [file] = readdirSync(dir);
  assert.match(file, /^events\.out\.tfevents\.\d+\./);
  const events = readEvents(path.join(dir, file));
  assert.equal(events[0].fileVersion, 'brain.Event:2');
  assert.deepEqual(events.slice(1).map((e) => e.step), [1, 2, 3]);
  const rows = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  for (const key of ['train/loss', 'val/species/accuracy', 'val/body_mass/mae', 'lr', 'grad_cos/species~body_mass']) {
    assert.ok(Math.abs(events[3].scalars[key] - rows[2][key]) <= 1e-6 * Math.max(1, Math.abs(rows[2][key])), key);
  }
  assert.ok(existsSync(path.join(out, 'report.html')));
});
