/**
 * Image inputs from PNG/JPEG files listed in a table: the same images as an IDX file
 * train to the same model, sizes and channels are handled, and bad files are errors
 * that name the data file, the row and the path.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { initBackend } from '../../src/backends';
import { trainCommand } from '../../src/api/train';
import { predictCommand } from '../../src/api/predict';
import { loadData } from '../../src/data/load';
import { decodeImageFile, encodePng, toPixels, writePngTable } from '../../src/data/image-files';
import { makeShapes, writeShapesDataset } from '../../src/data/synthetic';
import { DataError } from '../../src/errors';
import { silentProgress } from '../../src/training/progress';
import { configFrom } from '../helpers/config';
import { captureOutput } from '../helpers/output';
import { tempDir, writeFile } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

const dir = tempDir();
const model = 'model: {backbone: {type: resnet, filters: [4, 8], blocks: [1, 1]}}';
const tasks = `tasks:
  shape: {type: classification, target: label}
  size: {type: regression, target: scale}
  angle: {type: regression, target: angle}
training: {epochs: 2, batch_size: 16}`;

test('IDX images written out as PNG files train to the same metrics as the IDX file (split, rotation and pixels agree)', async () => {
  const idx = writeShapesDataset(path.join(dir, 'idx'), { n: 80, size: 12, seed: 7 });
  const shapes = makeShapes({ n: 80, size: 12, seed: 7 });
  const csv = writePngTable(path.join(dir, 'png'), shapes.images, { count: 80, height: 12, width: 12, channels: 1 }, { label: shapes.labels, scale: Array.from(shapes.scales) });
  const idxConfig = writeFile(dir, 'idx.yaml', `data: {format: idx, images: ${idx.images}, targets: {label: ${idx.labels}, scale: ${idx.scale}}, rotation: {max_degrees: 30}}\n${model}\n${tasks}\n`);
  const pngConfig = writeFile(dir, 'png.yaml', `data: {format: csv, path: ${csv}, inputs: [{name: image, type: image}], rotation: {max_degrees: 30}}\n${model}\n${tasks}\n`);
  const a = await trainCommand({ config: idxConfig, out: path.join(dir, 'run-idx'), threads: 1 }, captureOutput(), silentProgress);
  const b = await trainCommand({ config: pngConfig, out: path.join(dir, 'run-png'), threads: 1 }, captureOutput(), silentProgress);
  for (const task of ['shape', 'size', 'angle']) {
    for (const [metric, value] of Object.entries(a.test!.tasks[task].metrics)) {
      assert.ok(Math.abs(b.test!.tasks[task].metrics[metric] - value) < 1e-6, `${task}/${metric}: ${b.test!.tasks[task].metrics[metric]} vs ${value}`);
    }
  }
  // predict reads new files relative to their table, one row's error does not stop the rest.
  const table = writeFile(path.join(dir, 'png'), 'new.csv', 'image\nimages/00003.png\nimages/missing.png\n');
  const out = path.join(dir, 'preds.csv');
  const err = captureOutput();
  const result = await predictCommand({ location: path.join(dir, 'run-png'), data: table, out }, captureOutput(), err);
  assert.deepEqual(result.unscorable.map((u) => u.row), [3]);
  assert.match(result.unscorable[0].reason, /column "image" the image .*missing\.png does not exist/);
  const rows = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(rows.length, 3, 'a header and both rows');
  assert.match(rows[1], /^2,\d,/, 'line 2 is scored');
  assert.match(rows[2], /^3,.*does not exist/, 'line 3 carries its reason');
});

test('channels and size: RGB and gray JPEG/PNG decode, convert and resize', () => {
  const rgb = new Uint8Array(4 * 4 * 4);
  for (let p = 0; p < 16; p++) rgb.set([200, 100, 0, 255], p * 4);
  const jpg = path.join(dir, 'orange.jpg');
  writeFileSync(jpg, jpeg.encode({ data: rgb, width: 4, height: 4 }, 100).data);
  const decoded = decodeImageFile(jpg);
  assert.equal(decoded.channels, 3);
  assert.ok(Math.abs(decoded.data[0] - 200) < 6 && Math.abs(decoded.data[1] - 100) < 6);
  const grayPng = path.join(dir, 'gray.png');
  writeFileSync(grayPng, encodePng(Uint8Array.from({ length: 16 }, (_, i) => i * 16), 4, 4, 1));
  const gray = decodeImageFile(grayPng);
  assert.deepEqual([gray.channels, gray.height, gray.width], [1, 4, 4]);
  const out = new Float32Array(2 * 2 * 3);
  toPixels(gray, 2, 2, 3, out);
  assert.equal(out[0], out[1], 'gray repeated into RGB');
  assert.ok(out[0] > 0 && out[11] < 1 && out[11] > out[0], 'bilinear downscale keeps the gradient');
  const luma = new Float32Array(1);
  toPixels(decoded, 1, 1, 1, luma);
  assert.ok(Math.abs(luma[0] - (0.299 * 200 + 0.587 * 100) / 255) < 0.03, `luma ${luma[0]}`);
});

test('bad image inputs: missing or undecodable file, sizes that differ, name the data file, row and path; size: resizes', async () => {
  const sub = path.join(dir, 'bad');
  const shapes = makeShapes({ n: 12, size: 8, seed: 3 });
  const csv = writePngTable(sub, shapes.images, { count: 12, height: 8, width: 8, channels: 1 }, { label: shapes.labels });
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  const load = (text: string, name: string, extra = '') => {
    const file = writeFile(sub, name, text);
    return loadData(configFrom(`data: {format: csv, path: ${file}, inputs: [{name: image, type: image${extra}}]}\nmodel: {backbone: {type: resnet, filters: [4], blocks: [1]}}\ntasks:\n  shape: {type: classification, target: label}\n`));
  };
  const missing = await load([...lines.slice(0, 5), 'images/nope.png,1', ...lines.slice(5)].join('\n'), 'missing.csv').catch((e) => e);
  assert.ok(missing instanceof DataError, String(missing));
  assert.match(missing.message, /missing\.csv:6: column "image" the image .*images\/nope\.png does not exist/);
  writeFileSync(path.join(sub, 'broken.png'), 'not a png at all');
  const broken = await load([...lines, 'broken.png,2'].join('\n'), 'broken.csv').catch((e) => e);
  assert.match(String(broken.message), /broken\.csv:14: column "image" the image .*broken\.png cannot be decoded \(not a PNG or JPEG file\)/);
  writeFileSync(path.join(sub, 'big.png'), encodePng(new Uint8Array(10 * 10), 10, 10, 1));
  const sized = await load([...lines, 'big.png,0'].join('\n'), 'sized.csv').catch((e) => e);
  assert.match(String(sized.message), /sized\.csv:14: column "image" image big\.png is 10x10, the others are 8x8/);
  assert.match(String(sized.hint), /size: \[8, 8\]/);
  const resized = await load([...lines, 'big.png,0'].join('\n'), 'resized.csv', ', size: [6, 6]');
  assert.deepEqual(resized.preprocessing.inputs[0].shape, [6, 6, 1]);
  assert.equal(resized.train.size + resized.val.size + resized.test.size, 13);
});
