import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { initBackend } from '../../src/backends';
import { predictCommand } from '../../src/api/predict';
import { evalCommand } from '../../src/api/eval';
import { trainCommand } from '../../src/api/train';
import { writeShapesDataset } from '../../src/data/synthetic';
import { silentProgress } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { repoRoot, tempDir, writeFile } from '../helpers/tmp';

const dir = tempDir();
let run = '';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
  run = path.join(dir, 'penguins');
  await trainCommand({ config: path.join(repoRoot, 'configs', 'penguins.yaml'), out: run, epochs: 15 }, captureOutput(), silentProgress);
});

const header = 'species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year';

test('predict writes class, class probabilities and values in grams; bad rows are kept with their reason', async () => {
  const data = writeFile(
    dir,
    'new.csv',
    `${header}\n,Torgersen,39.1,18.7,181,,male,2007\n,Biscoe,46.1,13.2,211,,female,2007\n,Atlantis,40,18,190,,male,2008\n,Dream,forty,18,190,,male,2008\n`,
  );
  const out = path.join(dir, 'preds.csv');
  const warnings = captureOutput();
  const result = await predictCommand({ location: run, data, out }, captureOutput(), warnings);
  const rows = parse(readFileSync(out, 'utf8'), { columns: true }) as Record<string, string>[];
  assert.deepEqual(rows.map((r) => r.row), ['2', '3', '4', '5'], 'every input row, in order');
  assert.equal(rows[0].species, 'Adelie');
  assert.equal(rows[1].species, 'Gentoo');
  const p = ['Adelie', 'Chinstrap', 'Gentoo'].map((c) => Number(rows[0][`species.p.${c}`]));
  assert.ok(Math.abs(p[0] + p[1] + p[2] - 1) < 1e-5, 'probabilities sum to 1');
  assert.ok(Number(rows[0].body_mass) > 2500 && Number(rows[0].body_mass) < 5000, 'body mass in grams');
  assert.ok(Number(rows[1].body_mass) > Number(rows[0].body_mass), 'the Gentoo is heavier');
  assert.match(rows[2].error, /column "island" holds "Atlantis", a category never seen in training/);
  assert.match(rows[3].error, /column "bill_length_mm" holds "forty", expected a number/);
  assert.equal(rows[2].species, '');
  assert.deepEqual(result.unscorable.map((u) => u.row), [4, 5]);
  assert.match(warnings.text(), /2 rows could not be scored[\s\S]*line 4: .*Atlantis/);
});

test('predictions agree with eval: the predicted class reaches the accuracy eval reports', async () => {
  const file = path.join(repoRoot, 'datasets', 'penguins', 'penguins.csv');
  const out = path.join(dir, 'all.jsonl');
  await predictCommand({ location: run, data: file, out }, captureOutput(), captureOutput());
  const preds = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const truth = parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
  const scored = preds.filter((p) => !p.error);
  const accuracy = scored.filter((p) => p.species === truth[p.row - 2].species).length / scored.length;
  const report = await evalCommand({ location: run, data: file, json: true }, captureOutput());
  assert.ok(Math.abs(accuracy - report.tasks.species.metrics.accuracy) < 1e-9, `${accuracy} vs ${report.tasks.species.metrics.accuracy}`);
});

test('predict works on IDX images', async () => {
  const files = writeShapesDataset(path.join(dir, 'shapes'), { n: 80, size: 8, seed: 4 });
  const config = writeFile(dir, 'shapes.yaml', `data: {format: idx, images: ${files.images}, targets: {label: ${files.labels}, scale: ${files.scale}}}
model: {backbone: {type: resnet, filters: [4], blocks: [1]}}
tasks:
  shape: {type: classification, target: label}
  size: {type: regression, target: scale}
training: {epochs: 2}`);
  const imageRun = path.join(dir, 'shapes-run');
  await trainCommand({ config, out: imageRun }, captureOutput(), silentProgress);
  const out = path.join(dir, 'shapes.jsonl');
  const result = await predictCommand({ location: imageRun, data: files.images, out }, captureOutput(), captureOutput());
  assert.equal(result.rows.length, 80);
  const first = result.rows[0] as Record<string, unknown>;
  assert.equal(first.row, 0);
  assert.ok(['0', '1', '2', '3'].includes(first.shape as string));
  assert.equal(typeof first.size, 'number');
});
