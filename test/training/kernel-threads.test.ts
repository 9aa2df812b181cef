/**
 * Kernel threads (parallelism: kernels): one model on tfjs's threaded wasm build, its
 * convolutions split over two threads. The run learns, says how it threads, repeats
 * exactly for a seed, and takes the steps a single thread takes (up to the order in
 * which the filter gradients' shares are added).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { evalCommand } from '../../src/api/eval';
import { trainCommand } from '../../src/api/train';
import { writeShapesDataset } from '../../src/data/synthetic';
import { silentProgress } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { checkpointWeights, maxAbsDiff, metricRows } from '../helpers/run';
import { repoRoot, tempDir, writeFile } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm', kernelThreads: 2 });
});

const dir = tempDir();
const files = writeShapesDataset(path.join(dir, 'shapes'), { n: 400, size: 12, seed: 3 });
const config = (epochs: number) => writeFile(
  dir,
  `shapes-${epochs}.yaml`,
  `threads: 2
parallelism: kernels
data: {format: idx, images: ${files.images}, targets: {label: ${files.labels}, scale: ${files.scale}}}
model: {backbone: {type: resnet, filters: [8, 16], blocks: [1, 1], stem: {filters: 8}}}
tasks:
  shape: {type: classification, target: label}
  size: {type: regression, target: scale}
training: {epochs: ${epochs}, batch_size: 32, optimizer: {type: adam, learning_rate: 0.01}}
`,
);

test('a tiny ResNet learns on two kernel threads, one model, and says so', async () => {
  const out = path.join(dir, 'learn');
  const log = captureOutput();
  const summary = await trainCommand({ config: config(6), out }, log, silentProgress);
  const text = log.lines.join('\n');
  assert.match(text, /shared heap, 2 kernel threads/);
  assert.match(text, /threads: 2 kernel threads \(one model/);
  assert.doesNotMatch(text, /data-parallel replicas/);
  const rows = metricRows(out);
  assert.ok(rows[rows.length - 1]['train/loss'] < rows[0]['train/loss'] * 0.6, 'loss falls');
  assert.ok(summary.test!.tasks.shape.metrics.accuracy > 0.5, `accuracy ${summary.test!.tasks.shape.metrics.accuracy} beats chance (0.25)`);
});

test('kernel threads repeat exactly for a seed, and take the steps of a single thread on the plain build', async () => {
  const file = config(2);
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  await trainCommand({ config: file, out: a }, captureOutput(), silentProgress);
  await trainCommand({ config: file, out: b }, captureOutput(), silentProgress);
  assert.equal(maxAbsDiff(checkpointWeights(a), checkpointWeights(b)), 0, 'same seed, same weights');
  const single = path.join(dir, 'single');
  execFileSync(process.execPath, [path.join(repoRoot, 'bin/mtl.js'), 'train', file, '--backend', 'wasm', '--threads', '1', '--out', single], { stdio: 'pipe' });
  const diff = maxAbsDiff(checkpointWeights(a), checkpointWeights(single));
  assert.ok(diff < 1e-4, `weights differ from one thread's by ${diff}`);
});

test('eval on kernel threads scores as the plain build does on one thread', async () => {
  const run = path.join(dir, 'learn');
  const here = await evalCommand({ location: run }, captureOutput());
  // The report goes where the CLI's log lines go (stderr).
  const child = JSON.parse(spawnSync(process.execPath, [path.join(repoRoot, 'bin/mtl.js'), 'eval', run, '--backend', 'wasm', '--threads', '1', '--json'], { encoding: 'utf8' }).stderr);
  assert.ok(Math.abs(here.loss - child.loss) < 1e-5, `loss ${here.loss} against ${child.loss}`);
  assert.equal(here.tasks.shape.metrics.accuracy, child.tasks.shape.metrics.accuracy);
});
