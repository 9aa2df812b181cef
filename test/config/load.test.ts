import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, configHash } from '../../src/config/load';
import { ConfigError } from '../../src/errors';
import { repoRoot, tempDir, writeFile } from '../helpers/tmp';

const dir = tempDir();
const base = `name: t
data:
  format: csv
  path: data.csv
model:
  backbone: {type: mlp, units: [8]}
tasks:
  species:
    type: classification
    target: species
  mass:
    type: regression
    target: body_mass_g
training:
  epochs: 3
  optimizer: {type: adam, learning_rate: 0.01}
  early_stopping: {monitor: val/loss, patience: 2}
`;

/** Loads `text` as a config file and returns the ConfigError's message (fails if it loads). */
function errorOf(text: string, overrides = {}): string {
  const file = writeFile(dir, 'c.yaml', text);
  try {
    loadConfig(file, overrides);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    assert.equal(e.exitCode, 2);
    return e.message;
  }
  assert.fail('the config loaded without error');
}

test('a valid config loads with defaults filled in and paths made absolute', () => {
  const file = writeFile(dir, 'ok.yaml', base);
  const { config } = loadConfig(file);
  assert.equal(config.training.batch_size, 32);
  assert.equal(config.tasks.species.weight, 1);
  assert.equal(config.tasks.species.loss, 'sparse_categorical_crossentropy');
  assert.equal(config.model.sharing.type, 'hard');
  assert.deepEqual(config.data.split, { train: 0.7, val: 0.15, test: 0.15 });
  assert.equal(config.data.format === 'csv' && config.data.path, path.join(dir, 'data.csv'));
});

test('every shipped config is valid', () => {
  const names = readdirSync(path.join(repoRoot, 'configs')).filter((f) => f.endsWith('.yaml'));
  assert.ok(names.length >= 12);
  for (const name of names) {
    const { config } = loadConfig(path.join(repoRoot, 'configs', name));
    assert.ok(Object.keys(config.tasks).length >= 2, name);
  }
});

const badCases: { name: string; edit: (s: string) => string; expect: RegExp }[] = [
  {
    name: 'misspelt enum value names file, line, path and the fix',
    edit: (s) => s.replace('type: classification', 'type: clasification'),
    expect: /c\.yaml:9 tasks\.species\.type: expected classification \| regression \| multilabel, got "clasification"; did you mean "classification"\?/,
  },
  { name: 'unknown key suggests the nearest', edit: (s) => s.replace('epochs: 3', 'epoch: 3'), expect: /c\.yaml:15 training\.epoch: unknown key "epoch"; did you mean "epochs"\?/ },
  { name: 'negative epochs', edit: (s) => s.replace('epochs: 3', 'epochs: -1'), expect: /c\.yaml:15 training\.epochs: expected a number >= 1, got -1/ },
  { name: 'fractional epochs', edit: (s) => s.replace('epochs: 3', 'epochs: 2.5'), expect: /training\.epochs: expected an integer, got 2\.5/ },
  { name: 'wrong type', edit: (s) => s.replace('epochs: 3', 'epochs: three'), expect: /training\.epochs: expected a number, got "three"/ },
  { name: 'task without target', edit: (s) => s.replace('    target: species\n', ''), expect: /c\.yaml:\d+ tasks\.species\.target: missing; expected a string/ },
  { name: 'unknown optimizer', edit: (s) => s.replace('type: adam', 'type: adamw'), expect: /training\.optimizer\.type: expected adam \| sgd \| rmsprop, got "adamw"; did you mean "adam"\?/ },
  { name: 'optimizer key of another optimizer', edit: (s) => s.replace('learning_rate: 0.01}', 'learning_rate: 0.01, momentum: 0.9}'), expect: /training\.optimizer\.momentum: unknown key/ },
  { name: 'unknown data format', edit: (s) => s.replace('format: csv', 'format: xlsx'), expect: /c\.yaml:3 data\.format: expected csv \| jsonl \| parquet \| image_folder \| idx, got "xlsx"/ },
  { name: 'loss of the other task type', edit: (s) => s.replace('target: body_mass_g', 'target: body_mass_g\n    loss: sparse_categorical_crossentropy'), expect: /tasks\.mass\.loss: expected mse \| mae \| huber/ },
  { name: 'no tasks', edit: (s) => s.replace(/tasks:[\s\S]*training:/, 'tasks: {}\ntraining:'), expect: /tasks: at least one task/ },
  { name: 'bad task name', edit: (s) => s.replace('  mass:', '  2mass:'), expect: /tasks\.2mass: invalid name "2mass"/ },
  { name: 'split not adding up', edit: (s) => s.replace('path: data.csv', 'path: data.csv\n  split: {train: 0.8, val: 0.15, test: 0.15}'), expect: /data\.split: train \+ val \+ test must add up to 1, got 1\.1/ },
  { name: 'monitor of a missing metric', edit: (s) => s.replace('monitor: val/loss', 'monitor: val/specis/accuracy'), expect: /training\.early_stopping\.monitor: unknown metric "val\/specis\/accuracy"; did you mean "val\/species\/accuracy"\?/ },
  { name: 'resnet on a table', edit: (s) => s.replace('type: mlp, units: [8]', 'type: resnet'), expect: /model\.backbone\.type: resnet needs image data/ },
  { name: 'both path and splits', edit: (s) => s.replace('path: data.csv', 'path: data.csv\n  splits: {train: a.csv}'), expect: /data\.splits: give either data\.path or data\.splits, not both/ },
  { name: 'neither path nor splits', edit: (s) => s.replace('  path: data.csv\n', ''), expect: /data\.path: missing; give data\.path/ },
  { name: 'list expected', edit: (s) => s.replace('units: [8]', 'units: 8'), expect: /model\.backbone\.units: expected a list, got 8/ },
  { name: 'empty list', edit: (s) => s.replace('units: [8]', 'units: []'), expect: /model\.backbone\.units: expected at least 1 item, got 0/ },
  { name: 'dropout out of range', edit: (s) => s.replace('units: [8]', 'units: [8], dropout: 1.5'), expect: /model\.backbone\.dropout: expected a number < 1, got 1\.5/ },
  { name: 'not a mapping', edit: () => '- just\n- a list\n', expect: /expected a mapping of sections/ },
  { name: 'empty file', edit: () => '', expect: /expected a mapping of sections .* got an empty file/ },
  { name: 'YAML syntax error with line', edit: (s) => s + 'foo: [1\n', expect: /c\.yaml:\d+: YAML syntax error/ },
  { name: 'duplicate key', edit: (s) => s.replace('epochs: 3', 'epochs: 3\n  epochs: 4'), expect: /YAML syntax error: Map keys must be unique/ },
];

for (const c of badCases) {
  test(`bad config: ${c.name}`, () => {
    assert.match(errorOf(c.edit(base)), c.expect);
  });
}

test('several problems are reported together', () => {
  const message = errorOf(base.replace('epochs: 3', 'epochs: 0').replace('units: [8]', 'unitz: [8]'));
  assert.match(message, /training\.epochs/);
  assert.match(message, /model\.backbone\.unitz: unknown key "unitz"; did you mean "units"\?/);
});

test('flags override the file, and errors in them name the flag', () => {
  const file = writeFile(dir, 'ok.yaml', base);
  const { config } = loadConfig(file, { epochs: 7, batchSize: 4, seed: 9, set: ['training.optimizer.learning_rate=0.5', 'model.backbone.units=[4, 2]'] });
  assert.equal(config.training.epochs, 7);
  assert.equal(config.training.batch_size, 4);
  assert.equal(config.seed, 9);
  assert.equal(config.training.optimizer.learning_rate, 0.5);
  assert.deepEqual(config.model.backbone.type === 'mlp' && config.model.backbone.units, [4, 2]);
  assert.match(errorOf(base, { set: ['training.epochs=-2'] }), /c\.yaml \(--set training\.epochs=-2\) training\.epochs: expected a number >= 1, got -2/);
  assert.match(errorOf(base, { set: ['model.backbone.unitz=3'] }), /unknown key "unitz"; did you mean "units"\?/);
});

test('a missing config file and a directory get clear errors', () => {
  assert.throws(() => loadConfig(path.join(dir, 'nope.yaml')), /nope\.yaml: no such file/);
  assert.throws(() => loadConfig(dir), /is a directory, expected a YAML file/);
});

test('the config hash ignores device and output, not training settings', () => {
  const file = writeFile(dir, 'ok.yaml', base);
  const a = loadConfig(file).config;
  const b = loadConfig(file, { device: 'cpu', set: ['output.dir=elsewhere'] }).config;
  const c = loadConfig(file, { epochs: 9 }).config;
  assert.equal(configHash(a), configHash(b));
  assert.notEqual(configHash(a), configHash(c));
});

test('a UTF-8 BOM and CRLF line endings are accepted', () => {
  const file = writeFile(dir, 'crlf.yaml', '\uFEFF' + base.replace(/\n/g, '\r\n'));
  assert.equal(loadConfig(file).config.training.epochs, 3);
  assert.ok(readFileSync(file, 'utf8').includes('\r\n'));
});

test('bad config: an unknown input type or option names file, line, path and the nearest name', () => {
  const dir = tempDir();
  const file = writeFile(dir, 'inputs.yaml', 'data:\n  format: csv\n  path: x.csv\n  inputs:\n    - {name: a, type: imag}\n    - {name: b, type: category, encodr: embedding}\nmodel: {backbone: {type: mlp}}\ntasks:\n  t: {type: classification, target: y}\n');
  assert.throws(() => loadConfig(file), (e: unknown) => {
    const message = (e as Error).message;
    return /inputs\.yaml:5 data\.inputs\[0\]\.type: expected numeric \| category \| image \| text, got "imag"; did you mean "image"\?/.test(message) && /inputs\.yaml:6 data\.inputs\[1\]\.encodr: unknown key "encodr"; did you mean "encoder"\?/.test(message);
  });
});
