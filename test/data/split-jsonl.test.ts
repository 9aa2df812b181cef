import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadData, loadWithPreprocessing } from '../../src/data/load';
import { splitIndices } from '../../src/data/split';
import { DataError } from '../../src/errors';
import { configFrom } from '../helpers/config';
import { flatFeatures } from '../helpers/features';
import { tempDir, writeFile } from '../helpers/tmp';

const dir = tempDir();

test('stratify: every split keeps the class proportions of each seed', () => {
  // 200 rows, 10% of class "rare".
  const strata = Array.from({ length: 200 }, (_, i) => (i % 10 === 0 ? 'rare' : 'common'));
  for (const seed of [1, 2, 3]) {
    const parts = splitIndices(200, { train: 0.7, val: 0.15, test: 0.15 }, seed, 'x', { strata });
    for (const name of ['train', 'val', 'test'] as const) {
      const rare = parts[name].filter((i) => strata[i] === 'rare').length;
      assert.equal(rare, { train: 14, val: 3, test: 3 }[name], `seed ${seed} ${name}`);
    }
    assert.equal(parts.train.length + parts.val.length + parts.test.length, 200);
    assert.equal(new Set([...parts.train, ...parts.val, ...parts.test]).size, 200, 'each row once');
  }
});

test('group: rows that share a group value land in one split; sizes stay near the fractions', () => {
  const groups = Array.from({ length: 300 }, (_, i) => `subject-${Math.floor(i / 3)}`);
  const parts = splitIndices(300, { train: 0.7, val: 0.15, test: 0.15 }, 5, 'x', { groups });
  const where = new Map<string, string>();
  for (const name of ['train', 'val', 'test'] as const) {
    for (const i of parts[name]) {
      assert.ok(!where.has(groups[i]) || where.get(groups[i]) === name, `${groups[i]} is in ${where.get(groups[i])} and ${name}`);
      where.set(groups[i], name);
    }
  }
  assert.ok(Math.abs(parts.val.length - 45) <= 2 && Math.abs(parts.test.length - 45) <= 2, `${parts.val.length} / ${parts.test.length}`);
});

test('split.group and split.stratify from the config, on a table', async () => {
  const lines = ['doc,x,label'];
  for (let i = 0; i < 120; i++) lines.push(`d${Math.floor(i / 4)},${i},${i % 3 === 0 ? 'a' : 'b'}`);
  const file = writeFile(dir, 'docs.csv', `${lines.join('\n')}\n`);
  const base = `model: {backbone: {type: mlp}}\ntasks:\n  label: {type: classification, target: label}\n`;
  const grouped = await loadData(configFrom(`data: {format: csv, path: ${file}, features: [x], split: {group: doc}}\n${base}`));
  const docOf = (line: number) => lines[line - 1].split(',')[0];
  const docs = (rows: Int32Array) => new Set(Array.from(rows, docOf));
  const [train, val, test] = [docs(grouped.train.rows), docs(grouped.val.rows), docs(grouped.test.rows)];
  for (const d of val) assert.ok(!train.has(d) && !test.has(d), `${d} only in val`);
  for (const d of test) assert.ok(!train.has(d), `${d} only in test`);
  const stratified = await loadData(configFrom(`data: {format: csv, path: ${file}, features: [x], split: {stratify: label}}\n${base}`));
  const share = (s: typeof stratified.train) => Array.from(s.targets.label).filter((c) => c === 0).length / s.size;
  for (const s of [stratified.train, stratified.val, stratified.test]) assert.ok(Math.abs(share(s) - 1 / 3) < 0.03, `class a share ${share(s)}`);
});

test('JSONL reads like the same table in CSV: same split, same encoding; null and absent keys are missing', async () => {
  const rows = Array.from({ length: 40 }, (_, i) => ({ kind: i % 2 ? 'a' : 'b', size: i % 9 === 4 ? null : i * 1.5, x: i % 7, color: i % 3 ? 'red' : 'blue' }));
  const csvText = ['kind,size,x,color', ...rows.map((r) => `${r.kind},${r.size ?? 'NA'},${r.x},${r.color}`)].join('\n');
  const jsonlText = rows.map((r, i) => JSON.stringify(i === 5 ? { kind: r.kind, x: r.x, color: r.color } : r)).join('\n');
  const tasks = 'model: {backbone: {type: mlp}}\ntasks:\n  kind: {type: classification, target: kind}\n  size: {type: regression, target: size}\n';
  const csv = await loadData(configFrom(`data: {format: csv, path: ${writeFile(dir, 't.csv', csvText.replace('\na,7.5,5,red', '\na,NA,5,red'))}}\n${tasks}`));
  const jsonl = await loadData(configFrom(`data: {format: jsonl, path: ${writeFile(dir, 't.jsonl', jsonlText)}}\n${tasks}`));
  for (const name of ['train', 'val', 'test'] as const) {
    assert.deepEqual(Array.from(jsonl[name].rows), Array.from(csv[name].rows).map((line) => line - 1), `${name}: JSONL lines have no header line`);
    assert.deepEqual(Array.from(flatFeatures(jsonl[name])), Array.from(flatFeatures(csv[name])));
    assert.deepEqual(Array.from(jsonl[name].targets.size), Array.from(csv[name].targets.size));
  }
  assert.deepEqual(jsonl.preprocessing.targets, csv.preprocessing.targets);
  // Saved preprocessing reads a new JSONL file for eval/predict, whatever the training format.
  const scored = await loadWithPreprocessing(csv.preprocessing, { kind: { type: 'classification', target: 'kind' } } as never, { csv: writeFile(dir, 'new.jsonl', '{"kind": "a", "x": 3, "color": "red"}\n') }, { requireTargets: false, strict: true });
  assert.equal(scored.split.size, 1);
});

test('bad JSONL names the file and line', async () => {
  const tasks = 'model: {backbone: {type: mlp}}\ntasks:\n  kind: {type: classification, target: kind}\n';
  const load = (text: string, name: string) => loadData(configFrom(`data: {format: jsonl, path: ${writeFile(dir, name, text)}}\n${tasks}`));
  const bad = await load('{"kind": "a", "x": 1}\n{"kind": "b", x: 2}\n', 'bad.jsonl').catch((e) => e);
  assert.ok(bad instanceof DataError && /bad\.jsonl:2: not valid JSON/.test(bad.message), String(bad));
  const list = await load('{"kind": "a", "x": 1}\n[1, 2]\n', 'list.jsonl').catch((e) => e);
  assert.ok(list instanceof DataError && /list\.jsonl:2: expected a JSON object, found an array/.test(list.message), String(list));
  const nested = await load('{"kind": "a", "x": {"y": 1}}\n', 'nested.jsonl').catch((e) => e);
  assert.ok(nested instanceof DataError && /nested\.jsonl:1: key "x" holds an object/.test(nested.message), String(nested));
});

test('config: split.stratify must name a classification task', () => {
  assert.throws(() => configFrom('data: {format: csv, path: x.csv, split: {stratify: sise}}\nmodel: {backbone: {type: mlp}}\ntasks:\n  size: {type: regression, target: s}\n  kind: {type: classification, target: k}\n'), /no classification task "sise"/);
  assert.throws(() => configFrom('data: {format: csv, path: x.csv, split: {stratify: size}}\nmodel: {backbone: {type: mlp}}\ntasks:\n  size: {type: regression, target: s}\n'), /task size is a regression/);
});
