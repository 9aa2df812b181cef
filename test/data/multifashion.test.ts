import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readIdx } from '../../src/data/idx';
import { decodeImageFile } from '../../src/data/image-files';
import { areaResize, buildMultiFashion, composeCanvas, MULTIFASHION_SPLITS } from '../../src/data/multifashion';
import { MULTIFASHION_COUNTS, MULTIFASHION_SEED } from '../../scripts/make-multifashion';
import { repoRoot } from '../helpers/tmp';

const source = path.join(repoRoot, 'datasets/fashion-mnist');
const images = readIdx(path.join(source, 'images-idx3-ubyte.gz')).data as Uint8Array;
const labels = readIdx(path.join(source, 'labels-idx1-ubyte.gz')).data as Uint8Array;
const tiny = { train: 12, val: 4, test: 4 };

test('the builder is deterministic for a seed and differs for another seed', () => {
  const a = buildMultiFashion(images, labels, 28, { seed: 7, counts: tiny });
  const b = buildMultiFashion(images, labels, 28, { seed: 7, counts: tiny });
  const c = buildMultiFashion(images, labels, 28, { seed: 8, counts: tiny });
  for (const split of MULTIFASHION_SPLITS) {
    assert.deepEqual(Buffer.from(a[split].pixels), Buffer.from(b[split].pixels), split);
    assert.deepEqual(a[split].leftItem, b[split].leftItem);
    assert.deepEqual(a[split].shifts, b[split].shifts);
  }
  assert.notDeepEqual(a.train.leftItem, c.train.leftItem);
});

test('every image is 28x28 bytes with two items of different classes, shifted by 0..4, and no item is in two splits', () => {
  const parts = buildMultiFashion(images, labels, 28, { seed: 7, counts: { train: 200, val: 40, test: 40 } });
  const itemsOf = (split: (typeof MULTIFASHION_SPLITS)[number]) => new Set([...parts[split].leftItem, ...parts[split].rightItem]);
  for (const split of MULTIFASHION_SPLITS) {
    const part = parts[split];
    const n = part.left.length;
    assert.equal(part.pixels.length, n * 28 * 28);
    for (let k = 0; k < n; k++) {
      assert.notEqual(part.left[k], part.right[k], `${split} ${k}: two different classes`);
      assert.equal(labels[part.leftItem[k]], part.left[k]);
      assert.equal(labels[part.rightItem[k]], part.right[k]);
      assert.ok(part.shifts[k].every((s) => Number.isInteger(s) && s >= 0 && s <= 4), `${part.shifts[k]}`);
    }
  }
  const train = itemsOf('train');
  for (const split of ['val', 'test'] as const) for (const item of itemsOf(split)) assert.ok(!train.has(item), `${split} item ${item} also in train`);
  for (const item of itemsOf('val')) assert.ok(!itemsOf('test').has(item));
});

test('the canvas puts the items at opposite corners, the max where they overlap; area resizing averages', () => {
  const one = new Uint8Array(4).fill(100);
  const two = new Uint8Array(4).fill(200);
  // 2x2 items on a 4x4 canvas: left at (0,1), right with its bottom-right corner at (4-1, 4-0)
  const canvas = composeCanvas(one, two, 2, 4, [0, 1, 1, 0]);
  assert.deepEqual(Array.from(canvas), [0, 100, 100, 0, 0, 100, 200, 200, 0, 0, 200, 200, 0, 0, 0, 0]);
  const overlap = composeCanvas(two, one, 2, 3, [1, 1, 0, 0]);
  assert.equal(overlap[1 * 3 + 1], 200, 'max, not sum');
  // 3 -> 2: each output pixel covers 1.5 source pixels per axis
  const src = Uint8Array.from([0, 90, 180, 0, 90, 180, 0, 90, 180]);
  assert.deepEqual(Array.from(areaResize(src, 3, 3, 2, 2)), [30, 150, 30, 150]);
  assert.deepEqual(Array.from(areaResize(new Uint8Array(36 * 36).fill(77), 36, 36, 28, 28)), new Array(784).fill(77));
});

test('the shipped datasets/multifashion is what the script builds: counts, labels and pixels', () => {
  const dir = path.join(repoRoot, 'datasets/multifashion');
  const parts = buildMultiFashion(images, labels, 28, { seed: MULTIFASHION_SEED, counts: MULTIFASHION_COUNTS });
  for (const split of MULTIFASHION_SPLITS) {
    const [header, ...rows] = readFileSync(path.join(dir, `${split}.csv`), 'utf8').trim().split('\n');
    assert.equal(header, 'image,left,right,left_garment,right_garment,left_item,right_item');
    assert.equal(rows.length, MULTIFASHION_COUNTS[split]);
    const part = parts[split];
    rows.forEach((row, k) => {
      const cells = row.split(',');
      assert.deepEqual([Number(cells[1]), Number(cells[2]), Number(cells[5]), Number(cells[6])], [part.left[k], part.right[k], part.leftItem[k], part.rightItem[k]], `${split} row ${k}`);
    });
    for (const k of [0, 1, rows.length - 1]) {
      const image = decodeImageFile(path.join(dir, rows[k].split(',')[0]));
      assert.deepEqual([image.height, image.width, image.channels], [28, 28, 1]);
      assert.deepEqual(Buffer.from(image.data), Buffer.from(part.pixels.subarray(k * 784, (k + 1) * 784)), `${split} image ${k}`);
    }
  }
});
