import { test } from 'node:test';
import assert from 'node:assert/strict';
import { truncateSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { readIdx, writeIdx } from '../../src/data/idx';
import { loadData, loadWithPreprocessing } from '../../src/data/load';
import { rotateImage, rotationAngle } from '../../src/data/rotation';
import { writeShapesDataset } from '../../src/data/synthetic';
import { configFrom } from '../helpers/config';
import { repoRoot, tempDir } from '../helpers/tmp';

const dir = tempDir();

test('IDX files round-trip, gzipped or not, for every value type', () => {
  for (const [type, data] of [
    ['ubyte', Uint8Array.from([0, 7, 255, 3, 4, 5])],
    ['sbyte', Int8Array.from([-128, 7, 127, 3, 4, 5])],
    ['int16', Int16Array.from([-300, 7, 300, 3, 4, 5])],
    ['int32', Int32Array.from([-70000, 7, 70000, 3, 4, 5])],
    ['float32', Float32Array.from([-1.5, 0.25, 3, 4, 5, 6])],
    ['float64', Float64Array.from([-1e-9, 0.1, 3, 4, 5, 6])],
  ] as const) {
    for (const gzip of [false, true]) {
      const file = path.join(dir, `${type}-${gzip}.idx`);
      writeIdx(file, { type, dims: [2, 3], data }, { gzip });
      const back = readIdx(file);
      assert.equal(back.type, type);
      assert.deepEqual(back.dims, [2, 3]);
      assert.deepEqual(Array.from(back.data), Array.from(data));
    }
  }
});

test('truncated and foreign IDX files get clear errors', () => {
  const file = path.join(dir, 'cut.idx');
  writeIdx(file, { type: 'ubyte', dims: [4, 2, 2], data: new Uint8Array(16) });
  truncateSync(file, 20);
  assert.throws(() => readIdx(file), /cut\.idx: IDX size mismatch: the header promises 4 x 2 x 2 ubyte values \(32 bytes\), the file has 20/);
  writeFileSync(file, 'hello world');
  assert.throws(() => readIdx(file), /not an IDX file/);
  writeFileSync(file, Buffer.from([0x1f, 0x8b, 1, 2, 3]));
  assert.throws(() => readIdx(file), /gzip data is corrupt or truncated/);
});

test('the shipped Fashion-MNIST subset is 5,000 balanced 28x28 images', () => {
  const images = readIdx(path.join(repoRoot, 'datasets/fashion-mnist/images-idx3-ubyte.gz'));
  const labels = readIdx(path.join(repoRoot, 'datasets/fashion-mnist/labels-idx1-ubyte.gz'));
  assert.deepEqual(images.dims, [5000, 28, 28]);
  const counts = new Array(10).fill(0);
  for (const l of labels.data) counts[l]++;
  assert.deepEqual(counts, new Array(10).fill(500));
  assert.ok(gunzipSync(readFileSync(path.join(repoRoot, 'datasets/fashion-mnist/labels-idx1-ubyte.gz'))).length === 5008);
});

test('rotation by 0 returns the image; angles are seeded and within range', () => {
  const img = Float32Array.from({ length: 5 * 4 * 2 }, (_, i) => i);
  const out = new Float32Array(img.length);
  rotateImage(img, out, 5, 4, 2, 0);
  assert.deepEqual(Array.from(out), Array.from(img));
  rotateImage(img, out, 5, 4, 2, 180);
  // Rotating by 180° about the centre maps pixel (y, x) to (h-1-y, w-1-x).
  assert.ok(Math.abs(out[0] - img[(4 * 4 + 3) * 2]) < 1e-4);
  assert.equal(rotationAngle(42, 7, 45), rotationAngle(42, 7, 45));
  const angles = Array.from({ length: 200 }, (_, i) => rotationAngle(42, i, 30));
  assert.ok(angles.every((a) => a >= -30 && a <= 30));
  assert.ok(Math.max(...angles) > 25 && Math.min(...angles) < -25);
});

function shapesConfig(files: { images: string; labels: string; scale: string }, extra = '') {
  return configFrom(`data:
  format: idx
  images: ${files.images}
  targets: {label: ${files.labels}, scale: ${files.scale}}
${extra}
model: {backbone: {type: resnet, filters: [4], blocks: [1]}}
tasks:
  shape: {type: classification, target: label}
  size: {type: regression, target: scale}
  angle: {type: regression, target: angle}`);
}

test('image sets load with scaled pixels, class and value targets, and a derived rotation target', async () => {
  const files = writeShapesDataset(path.join(dir, 'shapes'), { n: 60, size: 12, seed: 1 });
  const config = shapesConfig(files, '  rotation: {target: angle, max_degrees: 30}\n  limit: 50');
  const data = await loadData(config);
  assert.equal(data.train.size + data.val.size + data.test.size, 50);
  assert.deepEqual(data.train.inputs[0].shape, [12, 12, 1]);
  assert.ok(Math.max(...data.train.inputs[0].values) <= 1);
  const shape = data.preprocessing.targets.shape;
  assert.deepEqual(shape.kind === 'classification' && shape.classes, ['0', '1', '2', '3']);
  const angle = data.preprocessing.targets.angle;
  assert.ok(angle.kind === 'regression' && angle.std[0] > 5, 'angles spread over ±30°');
  // The rotation is recomputed identically when the file is scored later.
  const again = await loadWithPreprocessing(data.preprocessing, config.tasks, { images: files.images, targets: { label: files.labels, scale: files.scale } }, { requireTargets: true, strict: true });
  const i = data.test.rows[0];
  const size = 144;
  assert.deepEqual(Array.from(again.split.inputs[0].values.subarray(i * size, (i + 1) * size)), Array.from(data.test.inputs[0].values.subarray(0, size)));
  assert.equal(again.split.targets.angle[i], data.test.targets.angle[0]);
});

test('image set errors: target counts and image sizes that do not match', async () => {
  const files = writeShapesDataset(path.join(dir, 'a'), { n: 20, size: 8, seed: 2 });
  const other = writeShapesDataset(path.join(dir, 'b'), { n: 10, size: 10, seed: 3 });
  await assert.rejects(loadData(shapesConfig({ ...files, labels: other.labels }, '  rotation: {target: angle}')), /holds 10 values but .*images-idx3-ubyte\.gz holds 20 images/);
  const data = await loadData(shapesConfig(files, '  rotation: {target: angle}'));
  await assert.rejects(
    loadWithPreprocessing(data.preprocessing, shapesConfig(files, '  rotation: {target: angle}').tasks, { images: other.images, targets: { label: other.labels, scale: other.scale } }, { requireTargets: true, strict: true }),
    /images are 10x10x1, the model was trained on 8x8x1/,
  );
});
