import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadData, loadWithPreprocessing } from '../../src/data/load';
import type { LoadedData } from '../../src/data/types';
import { DataError } from '../../src/errors';
import type { CategoryState } from '../../src/inputs/category';
import { configFrom } from '../helpers/config';
import { featureWidth, flatFeatures } from '../helpers/features';
import { tempDir, writeFile } from '../helpers/tmp';

const dir = tempDir();
let fileCount = 0;

/** A CSV file in the temp folder. */
function csv(text: string, name = `t${fileCount++}.csv`): string {
  return writeFile(dir, name, text);
}

function load(data: string, tasks: string): Promise<LoadedData> {
  return loadData(configFrom(`data: {format: csv, ${data}}\nmodel: {backbone: {type: mlp}}\ntasks:\n${tasks}`));
}

async function dataError(promise: Promise<unknown>): Promise<DataError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof DataError, `not a DataError: ${String(e)}`);
    assert.equal(e.exitCode, 2);
    return e;
  }
  return assert.fail('no error');
}

const all = (d: LoadedData) => d.train.size + d.val.size + d.test.size;
const classesOf = (d: LoadedData, task: string) => {
  const t = d.preprocessing.targets[task];
  return t.kind === 'classification' ? t.classes : assert.fail('not a classification');
};

/** 40 rows: kind a/b, size 0..39, x = 2 * size, color red/blue. */
const rows40 = 'kind,size,x,color\n' + Array.from({ length: 40 }, (_, i) => `${i % 2 ? 'a' : 'b'},${i},${i * 2},${i % 3 ? 'red' : 'blue'}`).join('\n') + '\n';
const kindAndSize = '  kind: {type: classification, target: kind}\n  size: {type: regression, target: size}';

test('limit keeps the first N data rows of the file', async () => {
  const d = await load(`path: ${csv(rows40)}, limit: 10`, kindAndSize);
  assert.equal(all(d), 10);
  const lines = [...d.train.rows, ...d.val.rows, ...d.test.rows].sort((a, b) => a - b);
  assert.deepEqual(lines, Array.from({ length: 10 }, (_, i) => i + 2), 'rows are CSV lines 2..11');
});

test('classes sort numerically when every label is a number, and pad to num_classes', async () => {
  const text = 'kind,size,x\n' + Array.from({ length: 30 }, (_, i) => `${[10, 2, 1][i % 3]},${i},${i % 7}`).join('\n');
  const d = await load(`path: ${csv(text)}`, '  kind: {type: classification, target: kind}\n  size: {type: regression, target: size}');
  assert.deepEqual(classesOf(d, 'kind'), ['1', '2', '10']);
  const padded = await load(`path: ${csv(text)}`, '  kind: {type: classification, target: kind, num_classes: 5}\n  size: {type: regression, target: size}');
  assert.deepEqual(classesOf(padded, 'kind'), ['1', '2', '10', 'class_3', 'class_4']);
  const tooFew = await dataError(load(`path: ${csv(text)}`, '  kind: {type: classification, target: kind, num_classes: 2}\n  size: {type: regression, target: size}'));
  assert.match(tooFew.message, /task kind: num_classes is 2 but the data holds 3 classes \(1, 2, 10\)/);
  assert.match(tooFew.hint ?? '', /num_classes to at least 3/);
});

test('a regression task over K columns: K standardized values per row, train-split statistics', async () => {
  const d = await load(`path: ${csv(rows40)}, features: [color]`, '  kind: {type: classification, target: kind}\n  both: {type: regression, target: [size, x]}');
  const t = d.preprocessing.targets.both;
  assert.ok(t.kind === 'regression');
  assert.deepEqual(t.columns, ['size', 'x']);
  assert.ok(Math.abs(t.mean[1] - 2 * t.mean[0]) < 1e-9 && Math.abs(t.std[1] - 2 * t.std[0]) < 1e-9);
  const values = d.train.targets.both as Float32Array;
  assert.equal(values.length, d.train.size * 2);
  for (let k = 0; k < 2; k++) {
    let sum = 0;
    for (let i = 0; i < d.train.size; i++) sum += values[i * 2 + k];
    assert.ok(Math.abs(sum / d.train.size) < 1e-5, `column ${k} has train mean 0`);
  }
  // Row i of the split is CSV line rows[i]: size = line - 2.
  const line = d.test.rows[0];
  assert.ok(Math.abs(values.length && (d.test.targets.both as Float32Array)[0] * t.std[0] + t.mean[0] - (line - 2)) < 1e-4);
});

test('standardize: false and standardize_targets: false keep raw values', async () => {
  const d = await load(`path: ${csv(rows40)}, features: [x], standardize: false, standardize_targets: false`, kindAndSize);
  const line = d.train.rows[3];
  assert.equal(flatFeatures(d.train)[3], (line - 2) * 2);
  assert.equal((d.train.targets.size as Float32Array)[3], line - 2);
  const t = d.preprocessing.targets.size;
  assert.deepEqual(t.kind === 'regression' && [t.mean, t.std], [[0], [1]]);
});

test('categorical columns: auto-detected or listed, one-hot over sorted train categories', async () => {
  const auto = await load(`path: ${csv(rows40)}`, kindAndSize);
  assert.deepEqual(
    auto.preprocessing.inputs.map((c) => (c.type === 'category' ? `${c.name}:${(c.state as CategoryState).categories.join('/')}` : c.name)),
    ['x', 'color:blue/red'],
  );
  assert.deepEqual([featureWidth(auto.preprocessing)], [3]);
  const listed = await load(`path: ${csv(rows40)}, categorical: [x, color], limit: 12`, kindAndSize);
  const x = listed.preprocessing.inputs[0];
  assert.equal(x.type, 'category');
  const categories = (x.state as CategoryState).categories;
  assert.deepEqual(categories, [...categories].sort());
  assert.equal(featureWidth(listed.preprocessing), categories.length + 2);
  // Each row has exactly one 1 in each one-hot block.
  const width = featureWidth(listed.preprocessing);
  for (let i = 0; i < listed.train.size; i++) {
    const row = Array.from(flatFeatures(listed.train).subarray(i * width, (i + 1) * width));
    assert.equal(row.reduce((a, b) => a + b, 0), 2);
  }
});

test('missing values: drop lists the lines; impute fills the train mean and mode', async () => {
  const text = rows40.replace('\na,3,6,blue', '\na,3,NA,blue').replace('\nb,4,8,red', '\nb,4,8,').replace('\na,5,10,red', '\na,NA,10,red');
  const dropped = await load(`path: ${csv(text, 'holes.csv')}, missing_targets: drop`, kindAndSize);
  assert.equal(all(dropped), 37);
  assert.ok(dropped.notes.some((n) => /holes\.csv: dropped 1 rows with a missing target: lines 7$/.test(n)), dropped.notes.join('\n'));
  assert.ok(dropped.notes.some((n) => /holes\.csv: dropped 2 rows with missing values .*: lines 5, 6$/.test(n)), dropped.notes.join('\n'));

  const masked = await load(`path: ${csv(text, 'holes.csv')}`, kindAndSize);
  assert.equal(all(masked), 38, 'the row without a size keeps its kind label');
  assert.ok(!masked.notes.some((n) => /missing target/.test(n)), masked.notes.join('\n'));
  const line7 = [masked.train, masked.val, masked.test].find((sp) => Array.from(sp.rows).includes(7))!;
  assert.ok(Number.isNaN(line7.targets.size[Array.from(line7.rows).indexOf(7)]), 'its size is unlabelled (NaN)');

  const imputed = await load(`path: ${csv(text)}, missing: impute, missing_targets: drop`, kindAndSize);
  assert.equal(all(imputed), 39);
  assert.ok(imputed.notes.some((n) => /imputed missing feature values in 2 rows/.test(n)));
  const [x, color] = imputed.preprocessing.inputs;
  assert.ok(x.type === 'numeric' && color.type === 'category');
  assert.equal((color.state as CategoryState).mode, 'red', 'red is the most common color');
  for (const split of [imputed.train, imputed.val, imputed.test]) {
    for (let i = 0; i < split.size; i++) {
      const f = flatFeatures(split).subarray(i * 3, i * 3 + 3);
      if (split.rows[i] === 5) assert.ok(Math.abs(f[0]) < 1e-6, 'the mean, standardized, is 0');
      if (split.rows[i] === 6) assert.deepEqual(Array.from(f.subarray(1)), [0, 1], 'the mode, red');
    }
  }
});

test('explicit split files: a missing val is carved from train; classes come from the whole train file', async () => {
  const train = csv(rows40.replace('\nb,0,0,blue', '\nc,0,0,blue'));
  const test_ = csv('kind,size,x,color\na,1,2,red\nb,3,4,blue\n');
  const d = await load(`splits: {train: ${train}, test: ${test_}}, split: {train: 0.75, val: 0.25, test: 0}`, kindAndSize);
  assert.equal(d.test.size, 2);
  assert.deepEqual(Array.from(d.test.rows), [2, 3]);
  assert.equal(d.val.size, 10, 'val = 40 train rows * 0.25 / (0.75 + 0.25)');
  assert.equal(d.train.size, 30);
  assert.deepEqual(classesOf(d, 'kind'), ['a', 'b', 'c'], 'c is in the train file even when its row lands in val');
});

test('explicit split files: a category unseen in train is an error naming file, line, column, value and the known ones', async () => {
  const train = csv(rows40);
  const val = csv('kind,size,x,color\na,1,2,red\nb,3,4,green\n', 'val-green.csv');
  const e = await dataError(load(`splits: {train: ${train}, val: ${val}}`, kindAndSize));
  assert.match(e.message, /val-green\.csv:3: column "color" holds "green", a category never seen in training/);
  assert.match(e.hint ?? '', /known categories: blue, red/);
});

test('errors: non-finite values, too few rows, a file that cannot be read, line numbers in CRLF files', async () => {
  const inf = await dataError(load(`path: ${csv(rows40.replace('\na,3,6,blue', '\na,3,Infinity,blue'), 'inf.csv')}`, kindAndSize));
  assert.match(inf.message, /inf\.csv:5: column "x" holds Infinity, not a finite number/);
  const huge = await dataError(load(`path: ${csv(rows40.replace('\na,3,6,blue', '\na,-2e31,6,blue'), 'huge.csv')}`, kindAndSize));
  assert.match(huge.message, /huge\.csv:5: column "size" \(target of task size\) holds -2e31, too large to train on/);
  const few = await dataError(load(`path: ${csv('kind,size,x\na,1,2\nb,3,4\n', 'few.csv')}, split: {train: 0.2, val: 0.4, test: 0.4}`, kindAndSize));
  assert.match(few.message, /few\.csv: 2 rows are too few to split into train\/val\/test/);
  const none = await dataError(load(`path: ${csv('kind,size,x\na,NA,2\nb,NA,3\na,NA,4\nb,NA,5\n', 'none.csv')}`, kindAndSize));
  assert.match(none.message, /none\.csv: task size has no labelled row in the train split/);
  const empty = await dataError(load(`path: ${csv('kind,size,x\na,NA,2\nb,NA,3\na,NA,4\nb,NA,5\n', 'none.csv')}, missing_targets: drop`, kindAndSize));
  assert.match(empty.message, /none\.csv: no train rows are left after dropping/);
  // /proc/self/mem exists but cannot be read with read(2), even as root.
  const unreadable = await dataError(load('path: /proc/self/mem', kindAndSize));
  assert.match(unreadable.message, /^\/proc\/self\/mem: cannot be read \(E[A-Z]+\)/);
  const notFeature = await dataError(load(`path: ${csv(rows40)}, features: [x], categorical: [color]`, kindAndSize));
  assert.match(notFeature.message, /data\.categorical names "color", which is not a feature column/);
  const crlf = await dataError(load(`path: ${csv(rows40.replace('\na,5,10,red', '\na,5,ten,red').replace(/\n/g, '\r\n'), 'crlf.csv')}`, kindAndSize));
  assert.match(crlf.message, /crlf\.csv:7: column "x" holds "ten", expected a number/);
  const ragged = await dataError(load(`path: ${csv('\uFEFF' + rows40.replace('\nb,6,12,blue', '\nb,6,12,blue,extra').replace(/\n/g, '\r\n'), 'ragged.csv')}`, kindAndSize));
  assert.match(ragged.message, /ragged\.csv:8: expected 4 cells \(as in the header\), found 5/);
});

test('saved preprocessing: missing features under drop, absent target columns for predict', async () => {
  const d = await load(`path: ${csv(rows40)}`, kindAndSize);
  const tasks = configFrom(`data: {format: csv, path: x.csv}\nmodel: {backbone: {type: mlp}}\ntasks:\n${kindAndSize}`).tasks;
  const features = csv('x,color\n2,red\nNA,blue\n4,\n', 'predict.csv');
  const scored = await loadWithPreprocessing(d.preprocessing, tasks, { csv: features }, { requireTargets: false, strict: false });
  assert.deepEqual(Array.from(scored.split.rows), [2]);
  assert.deepEqual(Object.keys(scored.split.targets), []);
  assert.deepEqual(
    scored.unscorable.map((u) => [u.row, u.reason]),
    [
      [3, 'column "x" is missing'],
      [4, 'column "color" is missing'],
    ],
  );
  // The same file for eval needs its targets.
  const e = await dataError(loadWithPreprocessing(d.preprocessing, tasks, { csv: features }, { requireTargets: true, strict: true }));
  assert.match(e.message, /predict\.csv: no column "kind"/);
  // Features transform exactly as in training.
  const again = await loadWithPreprocessing(d.preprocessing, tasks, { csv: csv(rows40) }, { requireTargets: true, strict: true });
  const i = d.test.rows[0] - 2;
  assert.deepEqual(Array.from(flatFeatures(again.split).subarray(i * 3, i * 3 + 3)), Array.from(flatFeatures(d.test).subarray(0, 3)));
  assert.equal((again.split.targets.size as Float32Array)[i], (d.test.targets.size as Float32Array)[0]);
});
