import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { compareCommand, compareTask, singleTaskConfig } from '../../src/cli/compare';
import { loadConfig } from '../../src/config/load';
import { captureOutput } from '../helpers/output';
import { repoRoot, tempDir } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

test('Δ has the sign of "better" for both metric directions; verdicts follow the seeds\' spread', () => {
  const acc = compareTask('accuracy', [0.8, 0.82, 0.78], [0.9, 0.91, 0.89]);
  assert.ok(Math.abs(acc.delta_pct - 12.5) < 1e-9);
  assert.equal(acc.verdict, 'helped');
  const mae = compareTask('mae', [10, 11, 9], [12, 12.5, 11.5]);
  assert.ok(Math.abs(mae.delta_pct - -20) < 1e-9, 'a larger error is worse');
  assert.equal(mae.verdict, 'negative transfer');
  assert.equal(compareTask('mae', [10, 12, 8], [10.5, 12, 9]).verdict, 'no clear difference');
  assert.ok(Math.abs(acc.stl.std - 0.02) < 1e-12, 'sample standard deviation');
});

test('a single-task config keeps the backbone and head, drops the other tasks and fixes monitors that named them', () => {
  const { config } = loadConfig(path.join(repoRoot, 'configs', 'penguins.yaml'), { set: ['training.checkpoint.monitor=val/species/accuracy', 'training.weighting.type=uncertainty'] });
  const single = singleTaskConfig(config, 'body_mass', 7, 42);
  assert.deepEqual(Object.keys(single.tasks), ['body_mass']);
  assert.deepEqual(single.model, config.model);
  assert.equal(single.seed, 7);
  assert.equal(single.data.split.seed, 42);
  assert.equal(single.training.checkpoint.monitor, 'val/loss');
  assert.equal(single.training.weighting.type, 'fixed');
  assert.equal(config.training.checkpoint.monitor, 'val/species/accuracy', 'the original is untouched');
});

test('mtl compare trains every model for every seed and writes comparison.json', async () => {
  const out = path.join(tempDir(), 'cmp');
  const output = captureOutput();
  const result = await compareCommand({ config: path.join(repoRoot, 'configs', 'penguins.yaml'), seeds: 2, epochs: 4, out }, output, false);
  const json = JSON.parse(readFileSync(path.join(out, 'comparison.json'), 'utf8'));
  assert.deepEqual(Object.keys(json.tasks), ['species', 'body_mass']);
  for (const task of ['species', 'body_mass']) {
    const t = json.tasks[task];
    for (const key of ['metric', 'stl', 'mtl', 'delta_pct', 'verdict']) assert.ok(key in t, `${task}.${key}`);
    assert.equal(t.stl.values.length, 2);
    assert.ok(Number.isFinite(t.stl.mean) && Number.isFinite(t.mtl.std));
  }
  assert.ok(Number.isFinite(json.delta_m_pct));
  assert.equal(result.runs.length, 6);
  assert.ok(existsSync(path.join(out, 'stl-species-seed42', 'summary.json')));
  assert.ok(existsSync(path.join(out, 'mtl-seed43', 'summary.json')));
  assert.match(output.text(), /\[6\/6\] multi-task seed 43/);
  assert.match(output.text(), /Δm = [+-]\d/);
});
