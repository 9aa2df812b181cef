import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadData, loadWithPreprocessing } from '../../src/data/load';
import { DataError } from '../../src/errors';
import { configFrom } from '../helpers/config';
import { featureWidth, flatFeatures } from '../helpers/features';
import { repoRoot, tempDir, writeFile } from '../helpers/tmp';

const penguins = path.join(repoRoot, 'datasets', 'penguins', 'penguins.csv');
const dir = tempDir();

function penguinConfig(extra = '', dataPath = penguins) {
  return configFrom(`data:
  format: csv
  path: ${dataPath}
  features: [island, bill_length_mm, bill_depth_mm, flipper_length_mm, sex]
${extra}
model: {backbone: {type: mlp}}
tasks:
  species: {type: classification, target: species}
  mass: {type: regression, target: body_mass_g}
`);
}

test('penguins: splits, one-hot widths, classes and train-only standardization', async () => {
  const data = await loadData(penguinConfig());
  // 344 rows; 11 miss a feature and are dropped under the default policy (drop): the 2
  // without body mass miss every measurement, 9 more miss sex.
  const usable = 344 - 11;
  assert.equal(data.train.size + data.val.size + data.test.size, usable);
  // The split is cut from all 344 rows before any is dropped.
  assert.ok(data.val.size <= Math.round(344 * 0.15) && data.val.size >= Math.round(344 * 0.15) - 11);
  // island (3 categories) + 3 numeric + sex (2 categories)
  assert.deepEqual([featureWidth(data.preprocessing)], [8]);
  const species = data.preprocessing.targets.species;
  assert.deepEqual(species.kind === 'classification' && species.classes, ['Adelie', 'Chinstrap', 'Gentoo']);
  const meanOf = (split: typeof data.train, col: number) => {
    let s = 0;
    for (let i = 0; i < split.size; i++) s += flatFeatures(split)[i * 8 + col];
    return s / split.size;
  };
  const numericCol = 3; // bill_length_mm follows island's 3 one-hot columns
  assert.ok(Math.abs(meanOf(data.train, numericCol)) < 1e-5, 'train mean is 0');
  assert.ok(Math.abs(meanOf(data.test, numericCol)) > 1e-4, 'test is scaled with train statistics, not its own');
  const mass = data.train.targets.mass as Float32Array;
  assert.ok(Math.abs(mass.reduce((a, b) => a + b, 0) / mass.length) < 1e-5);
  assert.ok(data.notes.some((n) => /penguins\.csv: dropped 11 rows with missing values .*: lines 5, 10, 11, 12, 13, ... \(11 in all\)/.test(n)), data.notes.join('\n'));
  assert.ok(!data.notes.some((n) => /missing target/.test(n)));
});

test('missing: impute keeps the rows that drop removes', async () => {
  const dropped = await loadData(penguinConfig());
  const imputed = await loadData(penguinConfig('  missing: impute'));
  const size = (d: typeof dropped) => d.train.size + d.val.size + d.test.size;
  // All 344 rows: the two without body mass keep their species label.
  assert.equal(size(imputed), 344);
  assert.equal(size(imputed) - size(dropped), 11);
  assert.ok(imputed.notes.some((n) => /imputed missing feature values in 11 rows/.test(n)));
  assert.ok(imputed.notes.some((n) => /task mass: 2 of \d+ train rows lack its label/.test(n)) || imputed.test.targets.mass.some(Number.isNaN) || imputed.val.targets.mass.some(Number.isNaN), imputed.notes.join('\n'));
});

test('splits and their order are the same for the same seed and differ for another', async () => {
  const a = await loadData(penguinConfig());
  const b = await loadData(penguinConfig());
  const c = await loadData(configFrom(`seed: 7\n${penguinConfigText()}`));
  assert.deepEqual(Array.from(a.test.rows), Array.from(b.test.rows));
  assert.notDeepEqual(Array.from(a.test.rows), Array.from(c.test.rows));
});

function penguinConfigText() {
  return `data: {format: csv, path: ${penguins}, features: [island, bill_length_mm, sex]}
model: {backbone: {type: mlp}}
tasks:
  species: {type: classification, target: species}
  mass: {type: regression, target: body_mass_g}`;
}

async function dataError(csv: string, extra = '', name = 'bad.csv'): Promise<DataError> {
  const file = writeFile(dir, name, csv);
  try {
    await loadData(configFrom(`data: {format: csv, path: ${file}${extra}}
model: {backbone: {type: mlp}}
tasks:
  kind: {type: classification, target: kind}
  size: {type: regression, target: size}`));
  } catch (e) {
    assert.ok(e instanceof DataError, `not a DataError: ${String(e)}`);
    assert.equal(e.exitCode, 2);
    return e;
  }
  assert.fail('the data loaded');
}

const good = 'kind,size,x,color\n' + Array.from({ length: 20 }, (_, i) => `${i % 2 ? 'a' : 'b'},${i},${i * 2},${i % 3 ? 'red' : 'blue'}`).join('\n') + '\n';

test('bad CSV files get errors naming file, line and column', async () => {
  assert.match((await dataError(good.replace('kind,size', 'kind,siz'))).message, /bad\.csv: no column "size" \(named in tasks\.size\.target\); did you mean "siz"\?/);
  assert.match((await dataError(good.replace('\na,3,6,blue', '\na,3,six,blue'))).message, /bad\.csv:5: column "x" holds "six", expected a number/);
  assert.match((await dataError(good.replace('\na,3,6,blue', '\na,3,6'))).message, /bad\.csv:5: expected 4 cells \(as in the header\), found 3/);
  assert.match((await dataError(good.replace('\na,3,6,blue', '\na,three,6,blue'))).message, /bad\.csv:5: column "size" \(target of task size\) holds "three", expected a number/);
  assert.match((await dataError(good.replace('\na,3,6,blue', '\na,3,1e300,blue'))).message, /bad\.csv:5: column "x" holds 1e300, too large/);
  assert.match((await dataError('')).message, /bad\.csv: the file is empty/);
  assert.match((await dataError('kind,size,x\n')).message, /has a header but no data rows/);
  assert.match((await dataError(good.replace(/,(\d+),(red|blue)/g, ',NA,$2').replace(/^(\w),(\d+),([\d]+),/gm, '$1,$2,NA,'), ', missing: impute')).message, /column "x" has no values in the train split/);
  assert.match((await dataError(good.replace(/^a,/gm, 'b,'))).message, /task kind: the training data holds only 1 class/);
  assert.match((await dataError(good, ', features: [x, colour]')).message, /no column "colour" \(named in data\.features\); did you mean "color"\?/);
  assert.match((await dataError('kind,size,x\n"a,1,2\n')).message, /bad\.csv:\d+: not valid CSV/);
});

test('missing files and folders name the config key', async () => {
  await assert.rejects(
    loadData(configFrom(`data: {format: csv, path: ${path.join(dir, 'none.csv')}}\nmodel: {backbone: {type: mlp}}\ntasks: {k: {type: regression, target: y}}`)),
    /none\.csv: no such file \(from data\.path\)/,
  );
  await assert.rejects(
    loadData(configFrom(`data: {format: csv, path: ${dir}}\nmodel: {backbone: {type: mlp}}\ntasks: {k: {type: regression, target: y}}`)),
    /is a directory, expected a file \(from data\.path\)/,
  );
});

test('a UTF-8 BOM and CRLF line endings read like a plain file', async () => {
  const plain = await loadDataFrom(writeFile(dir, 'plain.csv', good));
  const crlf = await loadDataFrom(writeFile(dir, 'crlf.csv', '\uFEFF' + good.replace(/\n/g, '\r\n')));
  assert.deepEqual(Array.from(flatFeatures(crlf.train)), Array.from(flatFeatures(plain.train)));
  assert.deepEqual(Array.from(crlf.train.rows), Array.from(plain.train.rows));
});

function loadDataFrom(file: string) {
  return loadData(configFrom(`data: {format: csv, path: ${file}}\nmodel: {backbone: {type: mlp}}\ntasks:\n  kind: {type: classification, target: kind}\n  size: {type: regression, target: size}`));
}

test('explicit split files: a class in test that train never had is an error', async () => {
  const train = writeFile(dir, 'train.csv', good);
  const test_ = writeFile(dir, 'test.csv', 'kind,size,x,color\nc,1,2,red\n');
  await assert.rejects(
    loadData(configFrom(`data: {format: csv, splits: {train: ${train}, test: ${test_}}}\nmodel: {backbone: {type: mlp}}\ntasks:\n  kind: {type: classification, target: kind}\n  size: {type: regression, target: size}`)),
    /test\.csv:2: task kind: class "c" was never seen in training/,
  );
});

test('saved preprocessing applies to a new file; unseen categories are errors (strict) or listed (non-strict)', async () => {
  const data = await loadDataFrom(writeFile(dir, 'plain2.csv', good));
  const tasks = configFrom(`data: {format: csv, path: x.csv}\nmodel: {backbone: {type: mlp}}\ntasks:\n  kind: {type: classification, target: kind}\n  size: {type: regression, target: size}`).tasks;
  const file = writeFile(dir, 'new.csv', 'kind,size,x,color\na,1,2,red\nb,3,4,green\na,5,oops,blue\n');
  await assert.rejects(loadWithPreprocessing(data.preprocessing, tasks, { csv: file }, { requireTargets: true, strict: true }), /new\.csv:3: column "color" holds "green", a category never seen in training/);
  const { split, unscorable } = await loadWithPreprocessing(data.preprocessing, tasks, { csv: file }, { requireTargets: false, strict: false });
  assert.equal(split.size, 1);
  assert.deepEqual(Array.from(split.rows), [2]);
  assert.deepEqual(unscorable.map((u) => u.row), [3, 4]);
  assert.match(unscorable[1].reason, /column "x" holds "oops", expected a number/);
});
