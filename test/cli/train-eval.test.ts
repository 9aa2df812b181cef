import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backends';
import { trainCommand } from '../../src/api/train';
import { evalCommand } from '../../src/api/eval';
import { silentProgress, type ProgressReporter } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { repoRoot, tempDir } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

const penguins = path.join(repoRoot, 'configs', 'penguins.yaml');

test('penguins trains: loss falls, accuracy beats chance, the run folder is complete and eval reproduces summary.json', async () => {
  const out = path.join(tempDir(), 'run');
  const tensorsAtEpochEnd: number[] = [];
  const progress: ProgressReporter = { ...silentProgress, endEpoch: () => tensorsAtEpochEnd.push(tf.memory().numTensors) };
  const summary = await trainCommand({ config: penguins, out, epochs: 12, set: ['training.early_stopping.patience=100'] }, captureOutput(), progress);

  const rows = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, 12);
  assert.ok(rows[11]['train/loss'] < rows[0]['train/loss'] * 0.5, `train/loss ${rows[0]['train/loss']} -> ${rows[11]['train/loss']}`);
  assert.ok(summary.test, 'test metrics');
  assert.ok(summary.test.tasks.species.metrics.accuracy > 0.8, 'well above chance (1/3)');
  assert.ok(summary.test.tasks.body_mass.metrics.mae < 500, 'body mass MAE in grams');
  for (const f of ['config.yaml', 'meta.json', 'metrics.csv', 'summary.json', 'checkpoints/best/model.json', 'checkpoints/last/model.json']) {
    assert.ok(existsSync(path.join(out, f)), f);
  }
  const header = readFileSync(path.join(out, 'metrics.csv'), 'utf8').split('\n')[0];
  assert.match(header, /^epoch,lr,train\/loss,train\/species\/loss,train\/body_mass\/loss,val\/loss,val\/species\/loss,val\/species\/accuracy/);
  const meta = JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8'));
  assert.equal(meta.backend.name, 'wasm');
  assert.ok(meta.ended_at && meta.started_at && meta.mtl_version);

  // No tensor growth: from the second epoch on (when optimizer slots exist) the count is flat.
  assert.equal(new Set(tensorsAtEpochEnd.slice(1)).size, 1, `tensor counts per epoch: ${tensorsAtEpochEnd.join(', ')}`);

  const report = await evalCommand({ location: out, json: true }, captureOutput());
  const saved = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
  for (const task of ['species', 'body_mass']) {
    for (const [metric, value] of Object.entries(saved.test.tasks[task].metrics)) {
      assert.ok(Math.abs(report.tasks[task].metrics[metric] - (value as number)) < 1e-9, `${task}/${metric}`);
    }
  }
  const val = await evalCommand({ location: path.join(out, 'checkpoints', 'last'), split: 'val' }, captureOutput());
  assert.equal(val.epoch, 12);
  assert.equal(val.source, 'val');
});

test('the same seed trains to the same weights; eval of a file with --data matches the split', async () => {
  const a = path.join(tempDir(), 'a');
  const b = path.join(tempDir(), 'b');
  await trainCommand({ config: penguins, out: a, epochs: 3 }, captureOutput(), silentProgress);
  await trainCommand({ config: penguins, out: b, epochs: 3 }, captureOutput(), silentProgress);
  const weights = (dir: string) => readFileSync(path.join(dir, 'checkpoints', 'last', JSON.parse(readFileSync(path.join(dir, 'checkpoints/last/model.json'), 'utf8')).weightsManifest[0].paths[0]));
  assert.ok(weights(a).equals(weights(b)));
  const whole = await evalCommand({ location: a, data: path.join(repoRoot, 'datasets/penguins/penguins.csv') }, captureOutput());
  assert.equal(whole.samples, 344, 'every row: features are imputed, as in training, and each row has a species');
  assert.equal(whole.tasks.species.n, 344);
  assert.equal(whole.tasks.body_mass.n, 342, 'body mass is scored on the rows that have it');
});
