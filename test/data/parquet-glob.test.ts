import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadData, loadWithPreprocessing } from '../../src/data/load';
import { DataError } from '../../src/errors';
import { configFrom } from '../helpers/config';
import { flatFeatures } from '../helpers/features';
import { tempDir } from '../helpers/tmp';

const dir = tempDir();
const n = 90;
const rows = Array.from({ length: n }, (_, i) => ({ kind: i % 3 === 0 ? 'a' : i % 3 === 1 ? 'b' : 'c', size: i % 11 === 5 ? null : i * 0.5, x: (i * 7) % 13, color: i % 4 ? 'red' : 'blue' }));
const csvCell = (v: unknown) => (v === null ? 'NA' : String(v));
const header = 'kind,size,x,color';
const csvLines = rows.map((r) => [r.kind, r.size, r.x, r.color].map(csvCell).join(','));
const tasks = `model: {backbone: {type: mlp}}\ntasks:\n  kind: {type: classification, target: kind}\n  size: {type: regression, target: size}`;
const load = (data: string) => loadData(configFrom(`data: {${data}}\n${tasks}`));

const single = path.join(dir, 'all.csv');
writeFileSync(single, `${header}\n${csvLines.join('\n')}\n`);
const shards = path.join(dir, 'shards');
mkdirSync(shards);
for (let s = 0; s < 3; s++) writeFileSync(path.join(shards, `part-${s}.csv`), `${header}\n${csvLines.slice(s * 30, (s + 1) * 30).join('\n')}\n`);

function sameData(a: Awaited<ReturnType<typeof loadData>>, b: Awaited<ReturnType<typeof loadData>>) {
  for (const part of ['train', 'val', 'test'] as const) {
    assert.equal(a[part].size, b[part].size, part);
    assert.deepEqual(Array.from(flatFeatures(a[part])), Array.from(flatFeatures(b[part])), part);
    assert.deepEqual(a[part].targets, b[part].targets, part);
  }
  assert.deepEqual(a.preprocessing.inputs, b.preprocessing.inputs);
  assert.deepEqual(a.preprocessing.targets, b.preprocessing.targets);
}

test('a glob reads its shards in sorted order as one table: the same split and preprocessing as one file', async () => {
  const one = await load(`format: csv, path: ${single}, missing: impute`);
  const many = await load(`format: csv, path: ${path.join(shards, 'part-*.csv')}, missing: impute`);
  sameData(one, many);
  // Lines are each shard's own.
  assert.ok(Math.max(...many.train.rows) <= 31);
  // Streamed, the glob gives the same split.
  const streamed = await load(`format: csv, path: ${path.join(shards, 'part-?.csv')}, missing: impute, streaming: true, memory_budget: 8KB`);
  for (const part of ['train', 'val', 'test'] as const) assert.equal(streamed[part].size, one[part].size);
});

test('a shard whose columns differ from the first names both files; a glob that matches nothing is an error', async () => {
  const bad = path.join(dir, 'bad');
  mkdirSync(bad);
  writeFileSync(path.join(bad, 'a.csv'), `${header}\n${csvLines.slice(0, 30).join('\n')}\n`);
  writeFileSync(path.join(bad, 'b.csv'), `kind,size,x,colour\n${csvLines.slice(30).join('\n')}\n`);
  for (const streaming of [false, true]) {
    await assert.rejects(load(`format: csv, path: ${path.join(bad, '*.csv')}, streaming: ${streaming}`), (e) => {
      assert.ok(e instanceof DataError);
      assert.match(e.message, /b\.csv: its columns do not match those of .*a\.csv: it lacks "color" and has "colour" besides/);
      return true;
    });
  }
  await assert.rejects(load(`format: csv, path: ${path.join(dir, 'none-*.csv')}`), /none-\*\.csv: no file matches this glob \(from data\.path\)/);
});

test('a truncated last line is an error naming the file and line, in memory and streamed', async () => {
  const file = path.join(dir, 'truncated.csv');
  writeFileSync(file, `${header}\n${csvLines.slice(0, 40).join('\n')}\nb,3`);
  for (const streaming of [false, true]) {
    await assert.rejects(load(`format: csv, path: ${file}, streaming: ${streaming}`), /truncated\.csv:42: expected 4 cells \(as in the header\), found 2/);
  }
  const quoted = path.join(dir, 'quoted.csv');
  writeFileSync(quoted, `${header}\n${csvLines.slice(0, 40).join('\n')}\n"b,3`);
  await assert.rejects(load(`format: csv, path: ${quoted}`), /quoted\.csv:42: not valid CSV \(Quote Not Closed/);
});

test('Parquet: row groups, nulls as missing, the same data as the CSV; globs of Parquet shards; eval --data on a Parquet file', async () => {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const write = (file: string, part: typeof rows) =>
    writeFileSync(
      file,
      Buffer.from(
        parquetWriteBuffer({
          columnData: [
            { name: 'kind', data: part.map((r) => r.kind), type: 'STRING' },
            { name: 'size', data: part.map((r) => r.size), type: 'DOUBLE' },
            { name: 'x', data: part.map((r) => r.x), type: 'DOUBLE' },
            { name: 'color', data: part.map((r) => r.color), type: 'STRING' },
          ],
          rowGroupSize: 25,
        }),
      ),
    );
  const file = path.join(dir, 'all.parquet');
  write(file, rows);
  const fromCsv = await load(`format: csv, path: ${single}, missing: impute`);
  const fromParquet = await load(`format: parquet, path: ${file}, missing: impute`);
  sameData(fromCsv, fromParquet);
  assert.ok(fromParquet.notes.some((n) => /imputed missing feature values/.test(n) || /lack its label/.test(n)), fromParquet.notes.join('\n'));
  const pq = path.join(dir, 'pq');
  mkdirSync(pq);
  for (let s = 0; s < 3; s++) write(path.join(pq, `part-${s}.parquet`), rows.slice(s * 30, (s + 1) * 30));
  sameData(fromCsv, await load(`format: parquet, path: ${path.join(pq, '*.parquet')}, missing: impute`));
  const scored = await loadWithPreprocessing(fromParquet.preprocessing, configFrom(`data: {format: parquet, path: ${file}}\n${tasks}`).tasks, { csv: file }, { requireTargets: true, strict: false });
  assert.equal(scored.split.size, n - 0);
  await assert.rejects(load(`format: parquet, path: ${single}`), /all\.csv: (not a Parquet file|cannot be read as Parquet)/);
});
