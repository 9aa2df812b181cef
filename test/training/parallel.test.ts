/**
 * Data-parallel threads: without batch norm or dropout, two replicas each taking
 * half of every batch compute the same step as one thread on the whole batch (up to
 * float rounding); with them, a run is still exactly repeatable for a given seed and
 * thread count, and resumes exactly.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { trainCommand } from '../../src/api/train';
import { InterruptedError } from '../../src/errors';
import type { StopSignal } from '../../src/training/loop';
import { silentProgress, type ProgressReporter } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { checkpointWeights, maxAbsDiff, metricRows } from '../helpers/run';
import { partlyLabelledPenguins, repoRoot, tempDir, writeFile } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

const dir = tempDir();
const penguins = path.join(repoRoot, 'datasets/penguins/penguins.csv');

function config(name: string, backbone: string, weighting = 'fixed', data = penguins): string {
  return writeFile(
    dir,
    `${name}.yaml`,
    `data: {format: csv, path: ${data}, features: [island, bill_length_mm, bill_depth_mm, flipper_length_mm]}
model: {backbone: ${backbone}}
tasks:
  species: {type: classification, target: species}
  mass: {type: regression, target: body_mass_g}
training: {epochs: 4, batch_size: 32, optimizer: {type: adam, learning_rate: 0.01}, weighting: {type: ${weighting}}}
`,
  );
}

/** Trains `file` on one thread and on two; the weights and the logged `keys` must agree. */
async function assertOneEqualsTwo(file: string, name: string, keys: string[]): Promise<void> {
  const one = path.join(dir, `${name}-one`);
  const two = path.join(dir, `${name}-two`);
  await trainCommand({ config: file, out: one, threads: 1 }, captureOutput(), silentProgress);
  await trainCommand({ config: file, out: two, threads: 2 }, captureOutput(), silentProgress);
  const diff = maxAbsDiff(checkpointWeights(two), checkpointWeights(one));
  assert.ok(diff < 1e-4, `weights differ by ${diff}`);
  const [a, b] = [metricRows(one), metricRows(two)];
  for (const key of keys) {
    assert.ok(Number.isFinite(a[3][key]), key);
    assert.ok(Math.abs(a[3][key] - b[3][key]) < 1e-4, key);
  }
}

test('two threads compute the same steps as one when nothing depends on the shard (no batch norm, no dropout)', async () => {
  await assertOneEqualsTwo(config('plain', '{type: mlp, units: [16, 16]}', 'gradnorm'), 'plain', ['train/loss', 'val/loss', 'weight/species']);
});

test('a gradient method on the parameters: two threads all-reduce each task\'s gradients, then combine them as one thread does', async () => {
  await assertOneEqualsTwo(config('pcgrad', '{type: mlp, units: [16, 16]}', 'pcgrad'), 'pcgrad', ['train/loss', 'val/loss', 'weight/species', 'weight/mass']);
});

test('partly labelled tasks: two threads compute the same masked steps as one (each loss a mean over the batch rows that carry its label)', async () => {
  const file = config('partly', '{type: mlp, units: [16, 16]}', 'uncertainty', partlyLabelledPenguins(dir));
  await assertOneEqualsTwo(file, 'partly', ['train/loss', 'train/species/loss', 'train/mass/loss', 'val/loss']);
});

test('a text model (a vocabulary of thousands, most rows untouched by a batch): two threads compute the same steps as one', async () => {
  const sotu = path.join(repoRoot, 'datasets/sotu/passages.jsonl');
  const file = writeFile(
    dir,
    'text.yaml',
    `data:
  format: jsonl
  path: ${sotu}
  limit: 1500
  inputs: [{name: text, type: text, encoder: bag, embedding_dim: 8, max_length: 32, min_count: 1, dropout: 0}]
model: {backbone: {type: mlp, units: [8]}}
tasks:
  party: {type: classification, target: party}
  year: {type: regression, target: year}
training: {epochs: 4, batch_size: 32, optimizer: {type: adam, learning_rate: 0.01}}
`,
  );
  await assertOneEqualsTwo(file, 'text', ['train/loss', 'val/loss', 'val/party/accuracy']);
});

test('with batch norm and dropout, a two-thread run repeats exactly and resumes exactly', async () => {
  const file = config('bn', '{type: mlp, units: [16], batch_norm: true, dropout: 0.2}');
  const runs = [path.join(dir, 'bn-a'), path.join(dir, 'bn-b')];
  for (const out of runs) await trainCommand({ config: file, out, threads: 2 }, captureOutput(), silentProgress);
  assert.deepEqual(Array.from(checkpointWeights(runs[1])), Array.from(checkpointWeights(runs[0])));
  const rows = metricRows(runs[0]);
  assert.ok(rows[3]['train/loss'] < rows[0]['train/loss']);

  const resumed = path.join(dir, 'bn-resumed');
  const stop: StopSignal = { requested: false };
  let epoch = 0;
  const progress: ProgressReporter = { ...silentProgress, startEpoch: (e) => (epoch = e), step: (s) => void (epoch === 2 && s === 3 && (stop.requested = true)) };
  await assert.rejects(trainCommand({ config: file, out: resumed, threads: 2 }, captureOutput(), progress, stop), InterruptedError);
  await trainCommand({ resume: resumed, threads: 2 }, captureOutput(), silentProgress);
  assert.ok(maxAbsDiff(checkpointWeights(resumed), checkpointWeights(runs[0])) <= 1e-6);
  assert.deepEqual(metricRows(resumed), rows);
});
