/** mtl init: a starter config typed from the data (that validates and trains), and examples copied with their data. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { parse } from 'yaml';
import { initBackend } from '../../src/backends';
import { initCommand } from '../../src/api/init';
import { trainCommand } from '../../src/api/train';
import { loadConfig } from '../../src/config/load';
import { UserError } from '../../src/errors';
import { silentProgress } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { tempDir, writeFile } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

function png(size: number, shade: number): Buffer {
  const image = new PNG({ width: size, height: size });
  image.data.fill(shade);
  return PNG.sync.write(image);
}

test('mtl init types every column from the data (numbers, categories, text, image paths, ids left out) and the config trains', async () => {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'img'));
  const words = ['a quick brown fox jumps', 'over the lazy dog today', 'some more words in here', 'and a final short text'];
  const rows = ['id,size,color,note,picture,kind,price'];
  for (let i = 0; i < 40; i++) {
    writeFile(dir, `img/${i}.png`, png(8, (i * 37) % 255));
    rows.push(`row${i},${(i % 7) + 0.5},${['red', 'green', 'blue'][i % 3]},"${words[i % 4]}",img/${i}.png,${i % 2 ? 'x' : 'y'},${i === 3 ? 'NA' : (i * 1.37).toFixed(2)}`);
  }
  const data = writeFile(dir, 'shop.csv', `${rows.join('\n')}\n`);
  const out = captureOutput();
  const file = initCommand({ data, task: ['kind:classification', 'price'] }, out, dir);
  assert.equal(file, path.join(dir, 'shop.yaml'));
  const config = parse(readFileSync(file, 'utf8'));
  assert.deepEqual(config.data.inputs, [
    { name: 'size', type: 'numeric' },
    { name: 'color', type: 'category' },
    { name: 'note', type: 'text' },
    { name: 'picture', type: 'image' },
  ]);
  assert.deepEqual(config.tasks, { kind: { type: 'classification', target: 'kind' }, price: { type: 'regression', target: 'price' } });
  assert.match(out.text(), /column id: left out \(a different value in every row/);
  assert.match(out.text(), /task price: regression \(numbers with 39 distinct values\)/);
  assert.match(readFileSync(file, 'utf8').split('\n')[0], /^# yaml-language-server: \$schema=.*schema\/mtl-config\.schema\.json$/);
  const loaded = loadConfig(file, { epochs: 1 }).config;
  const summary = await trainCommand({ resolvedConfig: loaded, out: path.join(dir, 'run') }, captureOutput(), silentProgress);
  assert.ok(Number.isFinite(summary.test!.tasks.price.metrics.mae));
});

test('mtl init refuses what it cannot do: no task, a task column that is not there, a file it would overwrite', () => {
  const dir = tempDir();
  const data = writeFile(dir, 'd.csv', 'a,b\n1,x\n2,y\n');
  assert.throws(() => initCommand({ data, task: [] }, captureOutput(), dir), /needs at least one --task/);
  assert.throws(() => initCommand({ data, task: ['c'] }, captureOutput(), dir), /d\.csv has no column "c"/);
  assert.throws(() => initCommand({ data, task: ['b:ordinal'] }, captureOutput(), dir), /expected <column> or <column>:classification\|regression/);
  writeFile(dir, 'd.yaml', 'taken');
  assert.throws(() => initCommand({ data, task: ['b'] }, captureOutput(), dir), (e: unknown) => e instanceof UserError && e.exitCode === 2 && /d\.yaml already exists/.test(e.message));
});

test('mtl init --example copies the config and its data; it validates and trains where it was copied', async () => {
  const dir = tempDir();
  const file = initCommand({ example: 'penguins' }, captureOutput(), dir);
  assert.ok(existsSync(path.join(dir, 'datasets', 'penguins', 'penguins.csv')));
  const config = loadConfig(file, { epochs: 1 }).config;
  assert.equal(config.data.format === 'csv' && config.data.path, path.join(dir, 'datasets', 'penguins', 'penguins.csv'));
  const summary = await trainCommand({ resolvedConfig: config, out: path.join(dir, 'run') }, captureOutput(), silentProgress);
  assert.ok(summary.test!.tasks.species.metrics.accuracy > 0.4);
  for (const example of ['fashion-mnist', 'sotu']) loadConfig(initCommand({ example }, captureOutput(), tempDir()));
  assert.throws(() => initCommand({ example: 'penguins' }, captureOutput(), dir), /already exists/);
  assert.throws(() => initCommand({ example: 'iris' }, captureOutput(), dir), /no example "iris"/);
});
