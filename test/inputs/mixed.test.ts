/**
 * Image, numeric and category inputs in one model, on a table where each input carries
 * one part of the answer (label = a + b + c, one bit each): the mix must beat every
 * input alone, which can at best learn its own bit.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { trainCommand } from '../../src/api/train';
import { silentProgress } from '../../src/training/progress';
import { writeMixedTable } from '../helpers/mixed-table';
import { captureOutput } from '../helpers/output';
import { tempDir, writeFile } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

const dir = tempDir();
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
  const csv = writeMixedTable(dir);
  const mix = await accuracy(csv, ['image', 'x', 'color']);
  const alone = { image: await accuracy(csv, ['image']), x: await accuracy(csv, ['x']), color: await accuracy(csv, ['color']) };
  for (const [name, value] of Object.entries(alone)) {
    assert.ok(value < 0.7, `${name} alone knows one bit of three (at most ~0.5 expected), got ${value}`);
    assert.ok(mix > value + 0.25, `the mix (${mix}) beats ${name} alone (${value})`);
  }
  assert.ok(mix > 0.85, `the mix learns the sum: ${mix}`);
});
