import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { predictCommand } from '../../src/api/predict';
import { trainCommand } from '../../src/api/train';
import { loadConfig } from '../../src/config/load';
import { encodePng } from '../../src/data/image-files';
import { makeShapes, SHAPE_CLASSES } from '../../src/data/synthetic';
import { ConfigError, DataError } from '../../src/errors';
import { loadData } from '../../src/data/load';
import { silentProgress } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { tempDir, writeFile } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

const dir = tempDir();

function shapesFolder(root: string, n: number): void {
  const shapes = makeShapes({ n, size: 10, seed: 4 });
  for (let i = 0; i < n; i++) {
    const folder = path.join(root, SHAPE_CLASSES[shapes.labels[i]]);
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, `${i}.png`), encodePng(shapes.images.subarray(i * 100, (i + 1) * 100), 10, 10, 1));
  }
}

test('format: image_folder: root/<class>/*.png is one image input and the class; it trains, and predict reads a folder', async () => {
  const root = path.join(dir, 'shapes');
  shapesFolder(root, 160);
  const config = writeFile(
    dir,
    'folder.yaml',
    `data: {format: image_folder, path: ${root}, image: {augment: {flip: true}}}
model: {backbone: {type: resnet, filters: [8], blocks: [1]}}
tasks:
  shape: {type: classification, target: class}
training: {epochs: 12, batch_size: 16, optimizer: {type: adam, learning_rate: 0.01}}
`,
  );
  const data = await loadData(loadConfig(config).config);
  const classes = data.preprocessing.targets.shape;
  assert.deepEqual(classes.kind === 'classification' && classes.classes, [...SHAPE_CLASSES].sort());
  assert.equal(data.train.size + data.val.size + data.test.size, 160);
  assert.deepEqual(data.preprocessing.inputs.map((i) => [i.name, i.type, i.shape.join('x')]), [['image', 'image', '10x10x1']]);
  const summary = await trainCommand({ config, out: path.join(dir, 'run'), threads: 1 }, captureOutput(), silentProgress);
  assert.ok(summary.test!.tasks.shape.metrics.accuracy > 0.5, `accuracy ${summary.test!.tasks.shape.metrics.accuracy} beats chance (0.25)`);

  const unlabelled = path.join(dir, 'new');
  mkdirSync(unlabelled);
  writeFileSync(path.join(unlabelled, 'a.png'), encodePng(new Uint8Array(100), 10, 10, 1));
  const out = path.join(dir, 'preds.jsonl');
  const result = await predictCommand({ location: path.join(dir, 'run'), data: unlabelled, out }, captureOutput(), captureOutput());
  assert.equal(result.unscorable.length, 0);
});

test('image_folder errors: an empty folder, a task that is not the class', async () => {
  mkdirSync(path.join(dir, 'empty'));
  const empty = writeFile(dir, 'empty.yaml', `data: {format: image_folder, path: ${path.join(dir, 'empty')}}\nmodel: {backbone: {type: resnet}}\ntasks:\n  shape: {type: classification, target: class}\n`);
  await assert.rejects(loadData(loadConfig(empty).config), (e: unknown) => e instanceof DataError && /holds no PNG or JPEG files/.test(e.message));
  const wrong = writeFile(dir, 'wrong.yaml', `data: {format: image_folder, path: ${path.join(dir, 'empty')}}\nmodel: {backbone: {type: resnet}}\ntasks:\n  size: {type: regression, target: size}\n`);
  assert.throws(() => loadConfig(wrong), (e: unknown) => e instanceof ConfigError && /one classification task with target: class/.test(e.message));
});
