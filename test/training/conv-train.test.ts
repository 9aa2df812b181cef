import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { trainCommand } from '../../src/api/train';
import { writeShapesDataset } from '../../src/data/synthetic';
import { silentProgress } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { metricRows } from '../helpers/run';
import { tempDir, writeFile } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

test('a tiny ResNet learns shape class and scale from procedural images on wasm', async () => {
  const dir = tempDir();
  const files = writeShapesDataset(path.join(dir, 'shapes'), { n: 400, size: 12, seed: 3 });
  const config = writeFile(
    dir,
    'shapes.yaml',
    `data: {format: idx, images: ${files.images}, targets: {label: ${files.labels}, scale: ${files.scale}}}
model: {backbone: {type: resnet, filters: [8, 16], blocks: [1, 1], stem: {filters: 8}}}
tasks:
  shape: {type: classification, target: label}
  size: {type: regression, target: scale}
training: {epochs: 6, batch_size: 32, optimizer: {type: adam, learning_rate: 0.01}}
`,
  );
  const out = path.join(dir, 'run');
  const summary = await trainCommand({ config, out }, captureOutput(), silentProgress);
  const rows = metricRows(out);
  assert.ok(rows[rows.length - 1]['train/loss'] < rows[0]['train/loss'] * 0.6, 'loss falls');
  assert.ok(summary.test!.tasks.shape.metrics.accuracy > 0.5, `accuracy ${summary.test!.tasks.shape.metrics.accuracy} beats chance (0.25)`);
  assert.ok(summary.test!.tasks.size.metrics.r2 > 0.3, `R² ${summary.test!.tasks.size.metrics.r2}`);
});
