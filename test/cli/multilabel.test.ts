/**
 * A multilabel task end to end: a small set-valued CSV trains through the library entry
 * point (the loss falls, micro-F1 beats trivial predictors), metrics.csv and the report
 * carry its metrics, predict writes label sets, and an unknown label in a scored file
 * (eval) or in a target column of a file to predict is a row error with exit code 2 from
 * the real CLI. Also the new classification options
 * (class_weight, focal, the new metrics) in one short run.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { initBackend } from '../../src/backends';
import { evalCommand } from '../../src/api/eval';
import { predictCommand } from '../../src/api/predict';
import { DataError } from '../../src/errors';
import { reportCommand } from '../../src/api/report';
import { trainCommand, type TrainSummary } from '../../src/api/train';
import { silentProgress } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { metricRows } from '../helpers/run';
import { repoRoot, tempDir, writeFile } from '../helpers/tmp';

const dir = tempDir();
const run = path.join(dir, 'run');
let summary: TrainSummary;
let positiveRate = 0;

/** Deterministic features in [-1, 1) and the labels they imply. */
function row(i: number): { x: number[]; tags: string[] } {
  // A small integer hash per (row, feature): independent-looking values, no Math.random.
  const x = [0, 1, 2].map((j) => {
    let h = Math.imul(i * 3 + j + 1, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
    return ((h ^ (h >>> 13)) >>> 0) / 2 ** 31 - 1;
  });
  const tags = [x[0] > 0 ? 'red' : '', x[1] > 0.3 ? 'big' : '', x[0] + x[2] > 0.2 ? 'round' : ''].filter(Boolean);
  return { x, tags };
}

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
  const lines = ['x1,x2,x3,tags'];
  let positives = 0;
  for (let i = 0; i < 300; i++) {
    const { x, tags } = row(i);
    positives += tags.length;
    // Every 10th row lacks the label (NA: masked); an empty cell is the empty set (empty_cell: no_labels).
    lines.push(`${x.map((v) => v.toFixed(3)).join(',')},${i % 10 === 9 ? 'NA' : tags.join('|')}`);
  }
  positiveRate = positives / (300 * 3);
  writeFile(dir, 'tags.csv', lines.join('\n') + '\n');
  const config = writeFile(
    dir,
    'tags.yaml',
    `data: {format: csv, path: tags.csv, split: {train: 0.7, val: 0.15, test: 0.15}}
model: {backbone: {type: mlp, units: [16]}}
tasks:
  tags: {type: multilabel, target: tags, labels: [big, red, round, square], empty_cell: no_labels}
training: {epochs: 25, batch_size: 32, optimizer: {type: adam, learning_rate: 0.01}, checkpoint: {monitor: val/tags/micro_f1}}
`,
  );
  summary = await trainCommand({ config, out: run }, captureOutput(), silentProgress);
});

test('a multilabel CSV trains: the loss falls and micro-F1 beats the all-negative and all-positive predictors', () => {
  const rows = metricRows(run);
  assert.ok(rows[rows.length - 1]['train/tags/loss'] < rows[0]['train/tags/loss'] * 0.5, `${rows[0]['train/tags/loss']} -> ${rows[rows.length - 1]['train/tags/loss']}`);
  const m = summary.test!.tasks.tags.metrics;
  // All-negative: micro-F1 0; all-positive: 2r / (1 + r) with r the share of positive cells (~0.5 here, square never present).
  const allPositive = (2 * positiveRate * 0.75) / (1 + positiveRate * 0.75);
  assert.ok(m.micro_f1 > 0.8 && m.micro_f1 > allPositive + 0.2, `micro-F1 ${m.micro_f1} vs all-positive ${allPositive}`);
  assert.ok(m.roc_auc > 0.9, `AUC ${m.roc_auc}`);
  for (const key of ['macro_f1', 'micro_precision', 'micro_recall', 'subset_accuracy', 'f1.red', 'precision.big', 'recall.round']) assert.ok(Number.isFinite(m[key]), key);
  const n = summary.test!.tasks.tags.n;
  assert.ok(n < 45 && n > 35, `n ${n}: the labelled test rows only`);
  const header = readFileSync(path.join(run, 'metrics.csv'), 'utf8').split('\n')[0].split(',');
  for (const key of ['val/tags/loss', 'val/tags/micro_f1', 'val/tags/roc_auc', 'val/tags/f1.red', 'val/tags/precision.square']) assert.ok(header.includes(key), key);
  assert.equal(summary.monitor.key, 'val/tags/micro_f1');
});

test('predict writes the predicted label set and every label\'s probability; a target column in the file is not used', async () => {
  const data = writeFile(dir, 'new.csv', 'x1,x2,x3,tags\n0.9,0.9,0.9,square\n-0.9,-0.9,-0.9,\n0.9,-0.9,-0.9,\n');
  const out = path.join(dir, 'preds.csv');
  await predictCommand({ location: run, data, out }, captureOutput(), captureOutput());
  const rows = parse(readFileSync(out, 'utf8'), { columns: true }) as Record<string, string>[];
  assert.deepEqual(Object.keys(rows[0]), ['row', 'tags', 'tags.p.big', 'tags.p.red', 'tags.p.round', 'tags.p.square', 'error']);
  assert.equal(rows[0].tags, 'big|red|round');
  assert.equal(rows[1].tags, '');
  assert.equal(rows[2].tags, 'red');
  assert.ok(Number(rows[0]['tags.p.big']) > 0.5 && Number(rows[1]['tags.p.big']) < 0.5);
  const jsonl = path.join(dir, 'preds.jsonl');
  await predictCommand({ location: run, data, out: jsonl }, captureOutput(), captureOutput());
  const first = JSON.parse(readFileSync(jsonl, 'utf8').split('\n')[0]);
  assert.deepEqual(first.tags, ['big', 'red', 'round']);
  assert.equal(Object.keys(first['tags.p']).length, 4);
});

test('eval --data scores a new file; a cell naming an unknown label exits 2 with file, line and label', async () => {
  const good = writeFile(dir, 'scored.csv', 'x1,x2,x3,tags\n0.9,0.9,0.9,big|red|round\n-0.9,-0.9,-0.9,\n');
  const report = await evalCommand({ location: run, data: good, json: true }, captureOutput());
  assert.equal(report.tasks.tags.metrics.subset_accuracy, 1);
  const bad = writeFile(dir, 'unknown.csv', 'x1,x2,x3,tags\n0.9,0.9,0.9,big|red\n-0.9,-0.9,-0.9,red|triangle\n');
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'mtl.js'), 'eval', run, '--data', bad], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /unknown\.csv:3: column "tags" \(task tags\): label "triangle" was never seen in training/);
  assert.match(result.stderr, /the model knows big, red, round, square/);
  assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
});

test('predict checks a multilabel target column the file carries: a cell naming an unknown label exits 2 with file, line, column and label', async () => {
  const bad = writeFile(dir, 'predict-unknown.csv', 'x1,x2,x3,tags\n0.9,0.9,0.9,big|red\n-0.9,-0.9,-0.9,\n0.9,-0.9,-0.9,NA\n0.1,0.2,0.3,round|hexagon\n');
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'mtl.js'), 'predict', run, '--data', bad], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  assert.equal(result.status, 2, result.stderr);
  assert.equal(result.stdout, '', 'no predictions written');
  assert.match(result.stderr, /predict-unknown\.csv:5: column "tags" \(task tags\): label "hexagon" was never seen in training/);
  assert.match(result.stderr, /the model knows big, red, round, square/);
  assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
  // JSONL: an array cell, through the library entry point; without the column nothing is checked.
  const jsonl = writeFile(dir, 'predict-unknown.jsonl', '{"x1": 0.9, "x2": 0.9, "x3": 0.9, "tags": ["big"]}\n{"x1": 0.1, "x2": 0.2, "x3": 0.3, "tags": ["red", "oval"]}\n');
  await assert.rejects(predictCommand({ location: run, data: jsonl }, captureOutput(), captureOutput()), (e: Error) => e instanceof DataError && /predict-unknown\.jsonl:2: column "tags" \(task tags\): label "oval"/.test(e.message));
  const plain = writeFile(dir, 'predict-no-targets.csv', 'x1,x2,x3\n0.1,0.2,0.3\n');
  const { rows } = await predictCommand({ location: run, data: plain }, captureOutput(), captureOutput());
  assert.equal(rows.length, 1);
});

test('the report draws the multilabel metrics per epoch and per label', async () => {
  const { file } = await reportCommand({ location: run }, captureOutput());
  const ids = [...readFileSync(file, 'utf8').matchAll(/data-chart="([^"]+)"/g)].map((m) => m[1]);
  for (const id of ['tags-micro_f1', 'tags-roc_auc', 'tags-f1-per-label', 'tags-precision-per-label', 'tags-per-label']) assert.ok(ids.includes(id), `${id} in ${ids.join(', ')}`);
});

test('classification with class_weight: balanced, focal loss and the new metrics trains and reports them', async () => {
  const out = path.join(dir, 'penguins');
  const s = await trainCommand(
    {
      config: path.join(repoRoot, 'configs', 'penguins.yaml'),
      out,
      epochs: 3,
      set: ['tasks.species.class_weight=balanced', 'tasks.species.loss=focal', 'tasks.species.metrics=[accuracy,roc_auc,precision,recall,top_k_accuracy]', 'tasks.species.top_k=2'],
    },
    captureOutput(),
    silentProgress,
  );
  const m = s.test!.tasks.species.metrics;
  for (const key of ['roc_auc', 'precision', 'recall', 'top_k_accuracy']) assert.ok(m[key] >= 0 && m[key] <= 1, `${key} ${m[key]}`);
  assert.ok(m.top_k_accuracy >= m.accuracy);
  const header = readFileSync(path.join(out, 'metrics.csv'), 'utf8').split('\n')[0];
  assert.match(header, /val\/species\/roc_auc,val\/species\/precision,val\/species\/recall,val\/species\/top_k_accuracy/);
  // eval on the same split gives the numbers of summary.json, the weighted focal loss included.
  const again = await evalCommand({ location: out, json: true }, captureOutput());
  assert.ok(Math.abs(again.tasks.species.loss - s.test!.tasks.species.loss) < 1e-9);
});
