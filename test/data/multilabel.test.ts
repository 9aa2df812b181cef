/**
 * Set-valued targets and class weights on the data side: how a multilabel column is
 * read (CSV cells split at the delimiter, JSONL arrays, empty and missing cells), its
 * labels, their encoding, and the class weights of `class_weight` (scikit-learn's
 * `balanced`) carried by classification targets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadData, loadWithPreprocessing } from '../../src/data/load';
import { classColumn, countLabelled, labelledRows, rowWeights } from '../../src/data/labels';
import { classWeights } from '../../src/data/targets';
import type { ClassificationTaskConfig } from '../../src/config/schema';
import { configFrom } from '../helpers/config';
import { tempDir, writeFile } from '../helpers/tmp';

const dir = tempDir();

function config(file: string, task: string, data = '', format = 'csv') {
  return configFrom(`data: {format: ${format}, path: ${file}, split: {train: 1, val: 0, test: 0}${data}}
model: {backbone: {type: mlp}}
tasks:
  tags: {type: multilabel, target: tags${task}}
  kind: {type: classification, target: kind}
`);
}

test('a CSV multilabel column: sorted labels, delimiter-split cells, missing cells masked, indicators per label', async () => {
  const file = writeFile(dir, 'tags.csv', 'x,tags,kind\n1,b|a,u\n2,c,v\n3,NA,u\n4,a | c |,v\n5,,u\n');
  const data = await loadData(config(file, ''));
  const t = data.preprocessing.targets.tags;
  assert.deepEqual(t.kind === 'multilabel' && t.labels, ['a', 'b', 'c']);
  const values = Array.from(data.train.targets.tags as Float32Array);
  assert.deepEqual(values.slice(0, 6), [1, 1, 0, 0, 0, 1]);
  assert.ok(values.slice(6, 9).every(Number.isNaN), 'NA: no label for this task (masked)');
  assert.deepEqual(values.slice(9, 12), [1, 0, 1], 'spaces and a trailing delimiter are ignored');
  assert.ok(values.slice(12, 15).every(Number.isNaN), 'an empty cell is missing by default');
  assert.deepEqual(Array.from(labelledRows(data.train.targets.tags, 5)), [0, 1, 3]);
});

test('empty_cell: no_labels reads an empty cell as the empty set; a custom delimiter; labels in the given order', async () => {
  const file = writeFile(dir, 'tags2.csv', 'x,tags,kind\n1,b;a,u\n2,,v\n3,NA,u\n4,b,v\n');
  const data = await loadData(config(file, ', delimiter: ";", empty_cell: no_labels, labels: [b, a]'));
  const t = data.preprocessing.targets.tags;
  assert.deepEqual(t.kind === 'multilabel' && t.labels, ['b', 'a']);
  const values = Array.from(data.train.targets.tags as Float32Array);
  assert.deepEqual(values.slice(0, 4), [1, 1, 0, 0]);
  assert.ok(Number.isNaN(values[4]), 'NA is still missing');
  assert.deepEqual(values.slice(6), [1, 0]);
});

test('JSONL: a JSON array is a label set, [] the empty set, null missing; an array in a feature is an error', async () => {
  const file = writeFile(dir, 'tags.jsonl', ['{"x": 1, "tags": ["a", "b"], "kind": "u"}', '{"x": 2, "tags": [], "kind": "v"}', '{"x": 3, "tags": null, "kind": "u"}', '{"x": 4, "tags": "b|c", "kind": "v"}', '{"x": 5, "tags": [3], "kind": "v"}'].join('\n'));
  const data = await loadData(config(file, '', '', 'jsonl'));
  const t = data.preprocessing.targets.tags;
  assert.deepEqual(t.kind === 'multilabel' && t.labels, ['3', 'a', 'b', 'c']);
  const values = Array.from(data.train.targets.tags as Float32Array);
  assert.deepEqual(values.slice(0, 8), [0, 1, 1, 0, 0, 0, 0, 0]);
  assert.ok(values.slice(8, 12).every(Number.isNaN));
  assert.deepEqual(values.slice(12), [0, 0, 1, 1, 1, 0, 0, 0]);
  const bad = writeFile(dir, 'bad.jsonl', '{"x": [1, 2], "tags": ["a"], "kind": "u"}\n{"x": 1, "tags": ["b"], "kind": "v"}\n');
  await assert.rejects(loadData(config(bad, '', '', 'jsonl')), /bad\.jsonl:1: key "x" holds an array/);
});

test('pos_weight: a number, a map, or balanced (negatives / positives) is the value of a present label', async () => {
  const file = writeFile(dir, 'pw.csv', 'x,tags,kind\n1,a,u\n2,a|b,v\n3,a,u\n4,NA,v\n');
  const indicators = async (pw: string) => Array.from((await loadData(config(file, `, pos_weight: ${pw}`))).train.targets.tags as Float32Array).slice(0, 6);
  assert.deepEqual(await indicators('2.5'), [2.5, 0, 2.5, 2.5, 2.5, 0]);
  assert.deepEqual(await indicators('{b: 4}'), [1, 0, 1, 4, 1, 0]);
  // a: present in all 3 labelled rows (no negative): 1; b: 2 negatives / 1 positive.
  assert.deepEqual(await indicators('balanced'), [1, 0, 1, 2, 1, 0]);
  await assert.rejects(loadData(config(file, ', pos_weight: {z: 2}')), /pos_weight names label "z"/);
});

test('an unknown label in a scored file, or in a file to predict that carries the column, is an error naming the file, the line, the column and the label', async () => {
  const train = writeFile(dir, 'known.csv', 'x,tags,kind\n1,a,u\n2,b,v\n3,a|b,u\n');
  const data = await loadData(config(train, ''));
  const other = writeFile(dir, 'unknown.csv', 'x,tags,kind\n1,a,u\n2,b|zebra,v\n');
  for (const options of [{ requireTargets: true, strict: true }, { requireTargets: false, strict: false }]) {
    await assert.rejects(
      loadWithPreprocessing(data.preprocessing, config(train, '').tasks, { csv: other }, options),
      /unknown\.csv:3: column "tags" \(task tags\): label "zebra" was never seen in training/,
      JSON.stringify(options),
    );
  }
  // Known labels (and a missing cell) in the column a prediction does not use: the rows are scored.
  const fine = writeFile(dir, 'fine.csv', 'x,tags,kind\n1,a,u\n2,NA,v\n3,b|a,zebra\n');
  const { split } = await loadWithPreprocessing(data.preprocessing, config(train, '').tasks, { csv: fine }, { requireTargets: false, strict: false });
  assert.equal(split.size, 3);
});

test('balanced class weights are n / (n_classes * count_c) over the train split, as scikit-learn', () => {
  const task = { class_weight: 'balanced', metrics: ['accuracy'] } as unknown as ClassificationTaskConfig;
  // y = [a, a, a, b, c, c]: sklearn.utils.class_weight.compute_class_weight('balanced', ...) = [6/9, 6/3, 6/6].
  const weights = classWeights('t', task, ['a', 'b', 'c'], [0, 0, 0, 1, 2, 2])!;
  assert.deepEqual(weights.map((w) => Number(w.toFixed(6))), [0.666667, 2, 1]);
  const given = classWeights('t', { ...task, class_weight: { b: 5 } } as ClassificationTaskConfig, ['a', 'b'], [0, 1])!;
  assert.deepEqual(given, [1, 5]);
  assert.throws(() => classWeights('t', { ...task, class_weight: { z: 5 } } as ClassificationTaskConfig, ['a', 'b'], [0, 1]), /class_weight names class "z"/);
});

test('class-weighted targets carry each row\'s weight: the weights sum per batch, classes read back, masks stay', async () => {
  const file = writeFile(dir, 'cw.csv', 'x,y,kind\n1,0,u\n2,1,u\n3,0,u\n4,1,v\n5,0,NA\n');
  const data = await loadData(
    configFrom(`data: {format: csv, path: ${file}, split: {train: 1, val: 0, test: 0}}
model: {backbone: {type: mlp}}
tasks:
  kind: {type: classification, target: kind, class_weight: balanced}
  other: {type: regression, target: x}
`),
  );
  const t = data.preprocessing.targets.kind;
  // 4 labelled train rows: u 3, v 1 -> 4 / (2 * 3), 4 / (2 * 1).
  assert.deepEqual(t.kind === 'classification' && t.weights?.map((w) => Number(w.toFixed(6))), [0.666667, 2]);
  const values = data.train.targets.kind as Int32Array;
  assert.deepEqual(Array.from(classColumn(values, 5)), [0, 0, 0, 1, -1]);
  assert.deepEqual(Array.from(rowWeights(values, 5)).map((w) => Number(w.toFixed(6))), [0.666667, 0.666667, 0.666667, 2, 0]);
  assert.ok(Math.abs(countLabelled(values, 5, [0, 1, 2, 3, 4], 0, 5) - 4) < 1e-6, 'balanced weights of the train split sum to its labelled rows');
  assert.deepEqual(Array.from(labelledRows(values, 5)), [0, 1, 2, 3]);
});
