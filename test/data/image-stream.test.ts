/**
 * Images larger than data.memory_budget decoded are not all held: a table of image paths
 * and an image folder stream (each image decoded once into the disk cache), IDX images
 * are read from disk a block at a time; the same pixels, targets and split as loading
 * them whole.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { initBackend } from '../../src/backends';
import { trainCommand } from '../../src/api/train';
import { writeIdx } from '../../src/data/idx';
import { encodePng } from '../../src/data/image-files';
import { loadData } from '../../src/data/load';
import { Rng } from '../../src/data/rng';
import type { LoadedData, Split } from '../../src/data/types';
import { loadCheckpoint } from '../../src/outputs/checkpoint';
import type { CheckpointMeta } from '../../src/outputs/checkpoint-meta';
import { evaluate } from '../../src/training/evaluate';
import { silentProgress } from '../../src/training/progress';
import { configFrom } from '../helpers/config';
import { captureOutput } from '../helpers/output';
import { assertResumeExact, metricRows } from '../helpers/run';
import { repoRoot, tempDir, writeFile } from '../helpers/tmp';

const dir = tempDir();
const fashion = path.join(repoRoot, 'datasets', 'fashion-mnist');

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

/** Each row's pixels and targets by its row id. */
function byRow(split: Split): Map<number, number[]> {
  const columns = [split.inputs[0].values, ...Object.values(split.targets)];
  const out = new Map<number, number[]>();
  split.rows.forEach((row, i) =>
    out.set(
      row,
      columns.flatMap((c) => {
        const width = c.length / split.size;
        return [...c.subarray(i * width, (i + 1) * width)];
      }),
    ),
  );
  return out;
}

function same(got: Map<number, number[]>, want: Map<number, number[]>, what: string): void {
  for (const [row, values] of got) {
    const expected = want.get(row);
    assert.ok(expected, `${what}: row ${row} is not in the whole load's split`);
    assert.ok(values.length === expected.length && values.every((v, k) => Math.abs(v - expected[k]) <= 1e-5), `${what}, row ${row}`);
  }
}

/** Every train row once an epoch, each with the whole load's values; val and test chunks likewise. */
function sameAsWhole(streamed: LoadedData, whole: LoadedData, batch: number): void {
  for (const part of ['train', 'val', 'test'] as const) assert.equal(streamed[part].size, whole[part].size, part);
  assert.deepEqual(streamed.preprocessing.targets, whole.preprocessing.targets);
  assert.deepEqual(streamed.preprocessing.inputs, whole.preprocessing.inputs);
  const train = byRow(whole.train);
  for (let epoch = 1; epoch <= 2; epoch++) {
    const stream = streamed.train.stream!.epoch!(epoch, batch, 0);
    const rows: number[] = [];
    for (let b = stream.next(); b; b = stream.next()) {
      same(byRow(b), train, `epoch ${epoch}`);
      rows.push(...b.rows);
    }
    assert.deepEqual(rows.sort((a, b) => a - b), [...whole.train.rows].sort((a, b) => a - b), `epoch ${epoch}: every train row once`);
  }
  for (const part of ['val', 'test'] as const) {
    const expected = byRow(whole[part]);
    let n = 0;
    for (const chunk of streamed[part].stream!.chunks()) {
      same(byRow(chunk), expected, part);
      n += chunk.size;
    }
    assert.equal(n, whole[part].size, part);
  }
}

test('a table of image paths whose decoded images exceed the budget streams by itself, the images decoded once into the disk cache', async () => {
  const { PNG } = await import('pngjs');
  mkdirSync(path.join(dir, 'img'), { recursive: true });
  const lines = ['image,kind'];
  for (let i = 0; i < 40; i++) {
    const png = new PNG({ width: 6, height: 5 });
    for (let p = 0; p < png.data.length; p++) png.data[p] = (i * 37 + p * 11) % 256;
    writeFileSync(path.join(dir, 'img', `${i}.png`), PNG.sync.write(png));
    lines.push(`img/${i}.png,${i % 2 ? 'odd' : 'even'}`);
  }
  const file = path.join(dir, 'images.csv');
  writeFileSync(file, lines.join('\n') + '\n');
  const config = (extra: string) =>
    configFrom(`data: {format: csv, path: ${file}, inputs: [{name: image, type: image, channels: 1}]${extra}}\nmodel: {backbone: {type: resnet, filters: [4], blocks: [1]}}\ntasks:\n  kind: {type: classification, target: kind}`);
  const whole = await loadData(config(''));
  // The CSV is 600 bytes, the decoded images 40 x 6 x 5 float32 = 4.8 KB.
  const streamed = await loadData(config(', memory_budget: 3KB'));
  assert.ok(streamed.train.stream && !whole.train.stream);
  assert.match(streamed.notes[0], /data: decoded, the images would take about .* \(40 rows of 5x6x1 float32 pixels\), more than data\.memory_budget .*: streaming them from disk/);
  assert.ok(streamed.notes.some((n) => /decoded images are kept on disk/.test(n)), streamed.notes.join('\n'));
  sameAsWhole(streamed, whole, 8);
  assert.ok(!(await loadData(config(', memory_budget: 3KB, streaming: false'))).train.stream, 'streaming: false loads them whole');
});

const idxConfig = (data: string) =>
  configFrom(`data: {format: idx, images: ${fashion}/images-idx3-ubyte.gz, targets: {label: ${fashion}/labels-idx1-ubyte.gz}, rotation: {target: angle, max_degrees: 30}, limit: 300${data}}
model: {backbone: {type: resnet, filters: [4], blocks: [1]}}
tasks:
  garment: {type: classification, target: label}
  angle: {type: regression, target: angle}
`);

test('IDX images whose decoded size exceeds the budget are read from disk a block at a time: the split, pixels (rotated) and targets of the whole load', async () => {
  const whole = await loadData(idxConfig(''));
  const streamed = await loadData(idxConfig(', memory_budget: 256KB'));
  assert.ok(streamed.train.stream && !whole.train.stream);
  assert.match(streamed.notes[0], /data: decoded, the images would take .* \(300 images of 28x28 float32 pixels\), more than data\.memory_budget .*: reading them from disk a block at a time/);
  assert.ok(streamed.notes.some((n) => /unpacked .*images-idx3-ubyte\.gz to a temporary file/.test(n)), streamed.notes.join('\n'));
  assert.ok(streamed.notes.some((n) => /images read from disk in blocks of up to \d+; shuffle buffer of \d+ images/.test(n)), streamed.notes.join('\n'));
  sameAsWhole(streamed, whole, 16);

  // Explicit val and test files (not gzipped: read in place), each checked against the train images.
  const images = path.join(dir, 'val-images.idx');
  const labels = path.join(dir, 'val-labels.idx');
  writeIdx(images, { type: 'ubyte', dims: [40, 28, 28], data: Uint8Array.from({ length: 40 * 784 }, (_, i) => (i * 7) % 256) });
  writeIdx(labels, { type: 'ubyte', dims: [40], data: Uint8Array.from({ length: 40 }, (_, i) => i % 10) });
  const splits = (extra: string) =>
    configFrom(`data: {format: idx, splits: {train: {images: ${fashion}/images-idx3-ubyte.gz, targets: {label: ${fashion}/labels-idx1-ubyte.gz}}, val: {images: ${images}, targets: {label: ${labels}}}}, limit: 200${extra}}
model: {backbone: {type: resnet, filters: [4], blocks: [1]}}
tasks:
  garment: {type: classification, target: label}
`);
  const wholeSplits = await loadData(splits(''));
  const streamedSplits = await loadData(splits(', streaming: true, memory_budget: 128KB'));
  assert.match(streamedSplits.notes[0], /images read from disk \(data\.streaming: true\)/);
  assert.ok(!streamedSplits.notes.some((n) => /unpacked .*val-images/.test(n)));
  sameAsWhole(streamedSplits, wholeSplits, 16);
  writeIdx(labels, { type: 'ubyte', dims: [40], data: Uint8Array.from({ length: 40 }, (_, i) => (i === 9 ? 11 : i % 10)) });
  await assert.rejects(loadData(splits(', streaming: true')), /val-labels\.idx: image 9: task garment: class "11" was never seen in training/);
});

test('a streamed IDX run interrupted mid-epoch and resumed ends exactly like one that ran straight through', async () => {
  const config = path.join(repoRoot, 'configs', 'fashion-mnist.yaml');
  const set = ['data.limit=240', 'data.memory_budget=256KB', 'data.shuffle_buffer=64', 'model.backbone.filters=[4]', 'model.backbone.blocks=[1]', 'training.batch_size=32'];
  const { log } = await assertResumeExact(config, set, 2, { epoch: 2, step: 2 });
  assert.match(log, /reading them from disk a block at a time/);
});

/**
 * root/<class>/<i>.png: 96 8x8 gray images of three classes told apart by brightness
 * (with noise), 24 KB decoded to float32: two blocks of rows under a budget of 8 KB.
 */
function brightnessFolder(root: string): void {
  const classes = ['bright', 'dark', 'mid'];
  const level = [210, 40, 125];
  const rng = new Rng(5);
  for (let i = 0; i < 96; i++) {
    const c = i % 3;
    const pixels = Uint8Array.from({ length: 64 }, () => Math.max(0, Math.min(255, level[c] + Math.round((rng.next() - 0.5) * 80))));
    mkdirSync(path.join(root, classes[c]), { recursive: true });
    writeFileSync(path.join(root, classes[c], `${String(i).padStart(3, '0')}.png`), encodePng(pixels, 8, 8, 1));
  }
}

const folderRoot = path.join(dir, 'brightness');
before(() => brightnessFolder(folderRoot));
const folderYaml = (extra: string) => `data: {format: image_folder, path: ${folderRoot}${extra}}
model: {backbone: {type: resnet, filters: [4], blocks: [1]}}
tasks:
  level: {type: classification, target: class}
training: {epochs: 8, batch_size: 8, optimizer: {type: adam, learning_rate: 0.02}, diagnostics: {enabled: false}}
`;
const folderStreams = /data: decoded, the images would take about 24\.0 KB \(96 images of 8x8x1 float32 pixels\), more than data\.memory_budget \(8\.0 KB\): streaming them from disk/;

test('an image folder whose decoded images exceed the budget streams by itself: the split, pixels and targets of the whole load', async () => {
  const whole = await loadData(configFrom(folderYaml('')));
  const streamed = await loadData(configFrom(folderYaml(', memory_budget: 8KB, shuffle_buffer: 40')));
  assert.ok(streamed.train.stream && !whole.train.stream);
  assert.match(streamed.notes[0], folderStreams);
  assert.ok(streamed.notes.some((n) => /decoded images are kept on disk/.test(n)), streamed.notes.join('\n'));
  assert.ok(streamed.notes.some((n) => /streamed in blocks of up to 64 rows; shuffle buffer of 40 rows/.test(n)), streamed.notes.join('\n'));
  assert.deepEqual(streamed.preprocessing.csv, whole.preprocessing.csv);
  sameAsWhole(streamed, whole, 8);
  // Stratified by the class, and limited: the same rows as the whole load.
  const stratified = ', split: {stratify: level}, limit: 90';
  sameAsWhole(await loadData(configFrom(folderYaml(`${stratified}, streaming: true, memory_budget: 8KB`))), await loadData(configFrom(folderYaml(stratified))), 8);
  assert.ok(!(await loadData(configFrom(folderYaml(', memory_budget: 8KB, streaming: false')))).train.stream, 'streaming: false loads it whole');
});

test('a streamed image folder trains, and its val and test metrics are those of its model on the whole load\'s val and test splits', async () => {
  const config = writeFile(dir, 'folder-streamed.yaml', folderYaml(', memory_budget: 8KB'));
  const run = path.join(dir, 'folder-run');
  const out = captureOutput();
  const summary = await trainCommand({ config, out: run, threads: 1 }, out, silentProgress);
  const wholeConfig = configFrom(folderYaml(''));
  const whole = await loadData(wholeConfig);
  assert.match(out.text(), folderStreams);
  const rows = metricRows(run);
  assert.ok(rows[rows.length - 1]['train/loss'] < rows[0]['train/loss'] / 2, `train loss ${rows[0]['train/loss']} -> ${rows[rows.length - 1]['train/loss']}`);
  assert.ok(summary.test!.tasks.level.metrics.accuracy > 0.6, `test accuracy ${summary.test!.tasks.level.metrics.accuracy} beats chance (1/3)`);

  assert.equal(out.text().match(/data: \d+ train, \d+ val, \d+ test samples/)![0], `data: ${whole.train.size} train, ${whole.val.size} val, ${whole.test.size} test samples`, 'the split of the whole load');
  const scored = async (which: 'best' | 'last', split: Split) => {
    const { model } = await loadCheckpoint<CheckpointMeta>(path.join(run, 'checkpoints', which));
    try {
      return evaluate(model, split, wholeConfig.tasks, whole.preprocessing);
    } finally {
      model.dispose();
    }
  };
  // The streamed val and test splits hold the whole load's rows: the same model scores them the same (losses to float32 rounding: a block ends a batch).
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));
  const test = await scored('best', whole.test);
  assert.equal(summary.test!.tasks.level.metrics.accuracy, test.tasks.level.metrics.accuracy);
  assert.ok(close(summary.test!.loss, test.loss), `test loss ${summary.test!.loss} vs ${test.loss}`);
  const val = await scored('last', whole.val);
  const last = rows[rows.length - 1];
  assert.equal(last['val/level/accuracy'], val.tasks.level.metrics.accuracy);
  assert.ok(close(last['val/loss'], val.loss), `val loss ${last['val/loss']} vs ${val.loss}`);
});

test('a streamed image folder run interrupted mid-epoch and resumed ends exactly like one that ran straight through', async () => {
  const config = writeFile(dir, 'folder-resume.yaml', folderYaml(', memory_budget: 8KB, shuffle_buffer: 24'));
  const { log } = await assertResumeExact(config, [], 3, { epoch: 2, step: 3 });
  assert.match(log, folderStreams);
});
