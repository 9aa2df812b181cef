/**
 * Image, numeric and category inputs in one model, on a table where each input carries
 * one part of the answer (label = a + b + c, one bit each): the mix must beat every
 * input alone, which can at best learn its own bit.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { trainCommand } from '../../src/cli/train';
import { writePngTable } from '../../src/data/image-files';
import { Rng } from '../../src/data/rng';
import { silentProgress } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { tempDir, writeFile } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

const dir = tempDir();
const N = 320;
const S = 6;

function mixedTable(): string {
  const rng = new Rng(11);
  const pixels = new Uint8Array(N * S * S);
  const x: string[] = [];
  const color: string[] = [];
  const label: number[] = [];
  for (let i = 0; i < N; i++) {
    const [a, b, c] = [rng.int(2), rng.int(2), rng.int(2)];
    // a: a bright block in the top half, else in the bottom half.
    for (let p = 0; p < S * S; p++) pixels[i * S * S + p] = (p < (S * S) / 2) === (a === 1) ? 200 + rng.int(55) : rng.int(40);
    x.push(((b ? 1 : -1) * rng.uniform(0.5, 2)).toFixed(3));
    color.push(c ? 'red' : 'blue');
    label.push(a + b + c);
  }
  return writePngTable(dir, pixels, { count: N, height: S, width: S, channels: 1 }, { x, color, label });
}

const inputs = {
  image: '{name: image, type: image, encoder: {filters: [4], blocks: [1]}}',
  x: '{name: x, type: numeric}',
  color: '{name: color, type: category, encoder: embedding, dim: 2}',
};

async function accuracy(csv: string, names: (keyof typeof inputs)[]): Promise<number> {
  const config = writeFile(
    dir,
    `${names.join('-')}.yaml`,
    `seed: 3
data: {format: csv, path: ${csv}, inputs: [${names.map((n) => inputs[n]).join(', ')}], split: {train: 0.7, val: 0.15, test: 0.15}}
model: {backbone: {type: mlp, units: [16]}}
tasks:
  total: {type: classification, target: label}
training: {epochs: 25, batch_size: 32, optimizer: {type: adam, learning_rate: 0.02}}
`,
  );
  const summary = await trainCommand({ config, out: path.join(dir, names.join('-')), threads: 1 }, captureOutput(), silentProgress);
  return summary.test!.tasks.total.metrics.accuracy;
}

test('image + numeric + category together beat each input alone when each carries part of the answer', async () => {
  const csv = mixedTable();
  const mix = await accuracy(csv, ['image', 'x', 'color']);
  const alone = { image: await accuracy(csv, ['image']), x: await accuracy(csv, ['x']), color: await accuracy(csv, ['color']) };
  for (const [name, value] of Object.entries(alone)) {
    assert.ok(value < 0.7, `${name} alone knows one bit of three (at most ~0.5 expected), got ${value}`);
    assert.ok(mix > value + 0.25, `the mix (${mix}) beats ${name} alone (${value})`);
  }
  assert.ok(mix > 0.85, `the mix learns the sum: ${mix}`);
});
