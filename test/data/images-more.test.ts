import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { readIdx, writeIdx } from '../../src/data/idx';
import { loadData, loadWithPreprocessing } from '../../src/data/load';
import { deriveSeed, Rng } from '../../src/data/rng';
import { rotateImage, rotationAngle } from '../../src/data/rotation';
import { makeShapes, SHAPE_CLASSES, writeShapesDataset } from '../../src/data/synthetic';
import { DataError } from '../../src/errors';
import { configFrom } from '../helpers/config';
import { tempDir } from '../helpers/tmp';

const dir = tempDir();
let n = 0;
const file = (name: string) => path.join(dir, `${n++}-${name}`);

function idxConfig(data: string, tasks: string) {
  return configFrom(`data: {format: idx, ${data}}\nmodel: {backbone: {type: resnet, filters: [4], blocks: [1]}}\ntasks:\n${tasks}`);
}

async function dataError(promise: Promise<unknown>): Promise<DataError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof DataError, `not a DataError: ${String(e)}`);
    return e;
  }
  return assert.fail('no error');
}

test('gzip is detected by its magic number, not the file name', () => {
  const data = Uint8Array.from({ length: 24 }, (_, i) => i);
  const gzNamedPlain = file('images.idx');
  const plainNamedGz = file('images.idx.gz');
  writeIdx(gzNamedPlain, { type: 'ubyte', dims: [2, 3, 4], data }, { gzip: true });
  writeIdx(plainNamedGz, { type: 'ubyte', dims: [2, 3, 4], data });
  assert.deepEqual(readFileSync(gzNamedPlain).subarray(0, 2), Buffer.from([0x1f, 0x8b]));
  assert.deepEqual(readFileSync(plainNamedGz).subarray(0, 4), Buffer.from([0, 0, 8, 3]));
  for (const f of [gzNamedPlain, plainNamedGz]) assert.deepEqual(Array.from(readIdx(f).data), Array.from(data));
  // Big-endian values, written the way the format says.
  const int16 = file('be.idx');
  writeIdx(int16, { type: 'int16', dims: [1], data: Int16Array.from([0x0102]) });
  assert.deepEqual(Array.from(readFileSync(int16)), [0, 0, 0x0b, 1, 0, 0, 0, 1, 1, 2]);
  assert.ok(!readdirSync(dir).some((f) => f.includes('.tmp-')), 'writeIdx leaves no temp files');
});

test('IDX errors: empty file, no images, wrong magic, trailing bytes', async () => {
  const empty = file('empty.idx');
  writeFileSync(empty, '');
  assert.throws(() => readIdx(empty, 'data.images'), (e: Error) => e instanceof DataError && /empty\.idx: the file is empty \(from data\.images\)/.test(e.message));
  const gzEmpty = file('empty.idx.gz');
  writeFileSync(gzEmpty, gzipSync(Buffer.alloc(0)));
  assert.throws(() => readIdx(gzEmpty), /not an IDX file/);
  const bad = file('magic.idx');
  writeFileSync(bad, Buffer.from([0, 0, 0x07, 1, 0, 0, 0, 0]));
  assert.throws(() => readIdx(bad), /magic\.idx: not an IDX file \(bad magic number 00000701\)/);
  const long = file('long.idx');
  writeIdx(long, { type: 'ubyte', dims: [2], data: Uint8Array.from([1, 2]) });
  writeFileSync(long, Buffer.concat([readFileSync(long), Buffer.from([9])]));
  assert.throws(() => readIdx(long), /long\.idx: IDX size mismatch: the header promises 2 ubyte values \(10 bytes\), the file has 11/);

  const noImages = file('none.idx');
  writeIdx(noImages, { type: 'ubyte', dims: [0, 4, 4], data: new Uint8Array(0) });
  const labels = file('labels.idx');
  writeIdx(labels, { type: 'ubyte', dims: [0], data: new Uint8Array(0) });
  const e = await dataError(loadData(idxConfig(`images: ${noImages}, targets: {label: ${labels}}`, '  k: {type: classification, target: label}')));
  assert.match(e.message, /none\.idx: holds no images/);
  const flat = file('flat.idx');
  writeIdx(flat, { type: 'ubyte', dims: [4, 4], data: new Uint8Array(16) });
  const e2 = await dataError(loadData(idxConfig(`images: ${flat}, targets: {label: ${labels}}`, '  k: {type: classification, target: label}')));
  assert.match(e2.message, /flat\.idx: expected images as N x H x W or N x H x W x C, found 2 dimensions/);
});

test('N x H x W x C images, N x K targets, and a regression over several target files', async () => {
  const count = 30;
  const images = file('rgb.idx');
  writeIdx(images, { type: 'ubyte', dims: [count, 2, 3, 3], data: Uint8Array.from({ length: count * 18 }, (_, i) => i % 256) });
  const labels = file('labels.idx');
  writeIdx(labels, { type: 'int32', dims: [count], data: Int32Array.from({ length: count }, (_, i) => [10, 9, -1][i % 3]) });
  const pair = file('pair.idx');
  writeIdx(pair, { type: 'float32', dims: [count, 2], data: Float32Array.from({ length: count * 2 }, (_, i) => (i % 2 ? -i : i)) });
  const single = file('single.idx');
  writeIdx(single, { type: 'float64', dims: [count], data: Float64Array.from({ length: count }, (_, i) => 100 + i) });
  const config = idxConfig(
    `images: ${images}, targets: {label: ${labels}, pair: ${pair}, single: ${single}}, split: {train: 0.5, val: 0.25, test: 0.25}`,
    '  k: {type: classification, target: label}\n  r: {type: regression, target: [pair, single]}',
  );
  const d = await loadData(config);
  assert.deepEqual(d.train.inputs[0].shape, [2, 3, 3]);
  assert.equal(d.train.inputs[0].values.length, d.train.size * 18);
  const i = d.train.rows[1];
  assert.ok(Math.abs(d.train.inputs[0].values[18 + 5] - ((i * 18 + 5) % 256) / 255) < 1e-7, 'pixel values scaled by 1/255');
  const k = d.preprocessing.targets.k;
  assert.deepEqual(k.kind === 'classification' && k.classes, ['-1', '9', '10']);
  assert.equal((d.train.targets.k as Int32Array)[1], { 10: 2, 9: 1, [-1]: 0 }[[10, 9, -1][i % 3]]);
  const r = d.preprocessing.targets.r;
  assert.ok(r.kind === 'regression');
  assert.deepEqual(r.columns, ['pair[0]', 'pair[1]', 'single']);
  const values = d.train.targets.r as Float32Array;
  assert.equal(values.length, d.train.size * 3);
  const raw = [2 * i, -(2 * i + 1), 100 + i];
  for (let j = 0; j < 3; j++) assert.ok(Math.abs(values[3 + j] * r.std[j] + r.mean[j] - raw[j]) < 1e-3, `column ${j}`);
});

test('explicit split files: val images of another size are an error', async () => {
  const train = writeShapesDataset(path.join(dir, 'split-train'), { n: 20, size: 6, seed: 1 });
  const val = writeShapesDataset(path.join(dir, 'split-val'), { n: 10, size: 7, seed: 2 });
  const e = await dataError(
    loadData(idxConfig(`splits: {train: {images: ${train.images}, targets: {label: ${train.labels}}}, val: {images: ${val.images}, targets: {label: ${val.labels}}}}`, '  k: {type: classification, target: label}')),
  );
  assert.match(e.message, /split-val\/images-idx3-ubyte\.gz: images are 7x7x1, the train images \(.*split-train\/images-idx3-ubyte\.gz\) are 6x6x1/);
});

test('classification labels must be integers; huge target values are errors', async () => {
  const images = file('img.idx');
  writeIdx(images, { type: 'ubyte', dims: [4, 2, 2], data: new Uint8Array(16) });
  const halves = file('halves.idx');
  writeIdx(halves, { type: 'float32', dims: [4], data: Float32Array.from([0, 1, 0.5, 1]) });
  const e = await dataError(loadData(idxConfig(`images: ${images}, targets: {label: ${halves}}`, '  k: {type: classification, target: label}')));
  assert.match(e.message, /halves\.idx: image 2 has the label 0\.5; task k is a classification and needs integer labels/);
  const huge = file('huge.idx');
  writeIdx(huge, { type: 'float64', dims: [4], data: Float64Array.from([0, 1, 1e31, 1]) });
  const e2 = await dataError(loadData(idxConfig(`images: ${images}, targets: {v: ${huge}}`, '  r: {type: regression, target: v}')));
  assert.match(e2.message, /huge\.idx: value 2 \(image 2\) is 1e\+31/);
  const nanPixels = file('nan.idx');
  writeIdx(nanPixels, { type: 'float32', dims: [4, 2, 2], data: Float32Array.from({ length: 16 }, (_, i) => (i === 9 ? NaN : 0.5)) });
  const e3 = await dataError(loadData(idxConfig(`images: ${nanPixels}, targets: {v: ${huge}}`, '  r: {type: regression, target: v}')));
  assert.match(e3.message, /nan\.idx: image 2 holds the pixel value NaN/);
});

test('a file rewritten in place is read afresh', async () => {
  const target = path.join(dir, 'rewritten');
  const tasks = '  shape: {type: classification, target: label}';
  const at = (files: { images: string; labels: string }) => idxConfig(`images: ${files.images}, targets: {label: ${files.labels}}`, tasks);
  const first = writeShapesDataset(target, { n: 20, size: 6, seed: 1 });
  assert.equal((await loadData(at(first))).train.size, 14);
  const second = writeShapesDataset(path.join(dir, 'bigger'), { n: 40, size: 6, seed: 2 });
  renameSync(second.images, first.images);
  renameSync(second.labels, first.labels);
  assert.equal((await loadData(at(first))).train.size, 28);
});

test('rotation: counter-clockwise about the centre, seeded per image index, identical on every load', async () => {
  // A single bright pixel right of the centre moves above it at +90 degrees.
  const img = new Float32Array(25);
  img[2 * 5 + 4] = 1;
  const out = new Float32Array(25);
  rotateImage(img, out, 5, 5, 1, 90);
  assert.ok(Math.abs(out[0 * 5 + 2] - 1) < 1e-6);
  assert.ok(out.reduce((a, b) => a + b, 0) - 1 < 1e-6);
  // Each output pixel is the bilinear interpolation at its inverse-rotated position.
  const ramp = Float32Array.from({ length: 25 }, (_, i) => (i * 7) % 11);
  rotateImage(ramp, out, 5, 5, 1, 10);
  assert.equal(out[12], ramp[12], 'the centre stays');
  const t = (10 * Math.PI) / 180;
  const [x, y] = [3, 1];
  const sx = Math.cos(t) * (x - 2) - Math.sin(t) * (y - 2) + 2;
  const sy = Math.sin(t) * (x - 2) + Math.cos(t) * (y - 2) + 2;
  const [x0, y0] = [Math.floor(sx), Math.floor(sy)];
  const at = (yy: number, xx: number) => ramp[yy * 5 + xx];
  const expected = (1 - (sy - y0)) * ((1 - (sx - x0)) * at(y0, x0) + (sx - x0) * at(y0, x0 + 1)) + (sy - y0) * ((1 - (sx - x0)) * at(y0 + 1, x0) + (sx - x0) * at(y0 + 1, x0 + 1));
  assert.ok(Math.abs(out[y * 5 + x] - expected) < 1e-5);
  const ones = new Float32Array(81).fill(1);
  const big = new Float32Array(81);
  rotateImage(ones, big, 9, 9, 1, 45);
  assert.equal(big[0], 0, 'a corner comes from outside the image: zero');
  assert.equal(big[40], 1);
  assert.equal(rotationAngle(42, 3, 10), -10 + 20 * new Rng(deriveSeed(42, 0x524f54, 3)).next());

  const files = writeShapesDataset(path.join(dir, 'rot'), { n: 40, size: 10, seed: 4 });
  const config = idxConfig(
    `images: ${files.images}, targets: {label: ${files.labels}}, rotation: {target: angle, max_degrees: 20}, standardize_targets: false`,
    '  shape: {type: classification, target: label}\n  angle: {type: regression, target: angle}',
  );
  const a = await loadData(config);
  const b = await loadData(config);
  assert.deepEqual(a.train.inputs[0].values, b.train.inputs[0].values);
  assert.deepEqual(a.test.targets.angle, b.test.targets.angle);
  a.test.rows.forEach((i, o) => assert.ok(Math.abs((a.test.targets.angle as Float32Array)[o] - rotationAngle(config.seed, i, 20)) < 1e-4));
  assert.deepEqual(a.preprocessing.rotation, { target: 'angle', maxDegrees: 20, seed: config.seed });
  // Another seed, other angles.
  const other = await loadData(configFrom(`seed: 9\ndata: {format: idx, images: ${files.images}, targets: {label: ${files.labels}}, rotation: {target: angle}}\nmodel: {backbone: {type: resnet}}\ntasks: {angle: {type: regression, target: angle}}`));
  assert.notEqual(other.preprocessing.rotation!.seed, config.seed);
});

test('image eval: an unseen label throws (strict) or leaves the image out (non-strict); predict scores images as given', async () => {
  const files = writeShapesDataset(path.join(dir, 'train'), { n: 30, size: 6, seed: 5 });
  const config = idxConfig(
    `images: ${files.images}, targets: {label: ${files.labels}}, rotation: {target: angle, max_degrees: 30}`,
    '  shape: {type: classification, target: label}\n  angle: {type: regression, target: angle}',
  );
  const d = await loadData(config);
  const labels = file('labels-with-7.idx');
  const original = readIdx(files.labels).data as Uint8Array;
  writeIdx(labels, { type: 'ubyte', dims: [30], data: Uint8Array.from(original, (v, i) => (i === 4 ? 7 : v)) });
  const source = { images: files.images, targets: { label: labels } };
  const e = await dataError(loadWithPreprocessing(d.preprocessing, config.tasks, source, { requireTargets: true, strict: true }));
  assert.match(e.message, /labels-with-7\.idx: image 4: task shape: class "7" was never seen in training/);
  const lenient = await loadWithPreprocessing(d.preprocessing, config.tasks, source, { requireTargets: true, strict: false });
  assert.deepEqual(lenient.unscorable, [{ row: 4, reason: 'task shape: class "7" was never seen in training' }]);
  assert.equal(lenient.split.size, 29);
  assert.equal(lenient.split.rows[4], 5);
  const missing = await dataError(loadWithPreprocessing(d.preprocessing, config.tasks, { images: files.images, targets: {} }, { requireTargets: true, strict: true }));
  assert.match(missing.hint ?? '', /pass --target label=/);
  const floats = file('float-images.idx');
  writeIdx(floats, { type: 'float32', dims: [30, 6, 6], data: Float32Array.from(readIdx(files.images).data, (v) => v / 255) });
  const scale = await dataError(loadWithPreprocessing(d.preprocessing, config.tasks, { images: floats, targets: { label: files.labels } }, { requireTargets: true, strict: true }));
  assert.match(scale.message, /float-images\.idx: pixels are float32 values, but the training pixels were bytes \(0-255, scaled by 1\/255\)/);
  const predict = await loadWithPreprocessing(d.preprocessing, config.tasks, { images: files.images, targets: {} }, { requireTargets: false, strict: false });
  assert.equal(predict.split.size, 30);
  const pixels = readIdx(files.images).data as Uint8Array;
  assert.equal(predict.split.inputs[0].values[40], pixels[40] * (1 / 255), 'not rotated');
});

test('synthetic shapes: seeded, every class drawn, scale in range', () => {
  const a = makeShapes({ n: 80, size: 16, seed: 3 });
  const b = makeShapes({ n: 80, size: 16, seed: 3 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(makeShapes({ n: 80, size: 16, seed: 4 }).labels, a.labels);
  assert.deepEqual([...new Set(a.labels)].sort(), SHAPE_CLASSES.map((_, i) => i));
  assert.ok(a.scales.every((s) => s >= 0.3 && s <= 0.9));
  // Bigger shapes cover more pixels.
  const ink = (i: number) => a.images.subarray(i * 256, (i + 1) * 256).filter((v) => v > 0).length;
  const discs = Array.from(a.labels.keys()).filter((i) => a.labels[i] === 0).sort((x, y) => a.scales[x] - a.scales[y]);
  assert.ok(ink(discs[discs.length - 1]) > ink(discs[0]));
});
