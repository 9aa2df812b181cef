import { test } from 'node:test';
import assert from 'node:assert/strict';
import { epochOrder, gatherBatch, modelInputGroups } from '../../src/data/batches';
import type { Split } from '../../src/data/types';

const split: Split = {
  size: 4,
  inputs: [
    { name: 'x', shape: [2], packed: true, values: Float32Array.from([0, 1, 10, 11, 20, 21, 30, 31]) },
    { name: 'y', shape: [1], packed: true, values: Float32Array.from([5, 6, 7, 8]) },
  ],
  targets: { c: Int32Array.from([0, 1, 2, 3]), r: Float32Array.from([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]) },
  rows: Int32Array.from([2, 3, 4, 5]),
};

test('gatherBatch copies the chosen rows with their targets', () => {
  const b = gatherBatch(split, [3, 1, 0, 2], 0, 2);
  assert.equal(b.inputs.length, 1, 'x and y are packed into one model input');
  assert.deepEqual(b.inputs[0].shape, [3]);
  assert.deepEqual(Array.from(b.inputs[0].values), [30, 31, 8, 10, 11, 6], 'every input, by the same rows');
  assert.deepEqual(Array.from(b.targets.c), [3, 1]);
  assert.deepEqual(Array.from(b.targets.r), [3, 3.5, 1, 1.5]);
});

test('epoch orders are permutations, reshuffled each epoch, fixed by the seed', () => {
  const a1 = Array.from(epochOrder(50, 1, 1));
  assert.deepEqual([...a1].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(Array.from(epochOrder(50, 1, 1)), a1);
  assert.notDeepEqual(Array.from(epochOrder(50, 1, 2)), a1);
  assert.notDeepEqual(Array.from(epochOrder(50, 2, 1)), a1);
});

test('gatherBatch: image rows, a range in the middle of the order, fresh arrays', () => {
  const images: Split = {
    size: 3,
    inputs: [{ name: 'image', shape: [2, 2, 1], packed: false, values: Float32Array.from({ length: 12 }, (_, i) => i) }],
    targets: { angle: Float32Array.from([0.1, 0.2, 0.3]) },
    rows: Int32Array.from([7, 8, 9]),
  };
  const b = gatherBatch(images, Uint32Array.from([2, 0, 1]), 1, 3);
  assert.deepEqual(Array.from(b.inputs[0].values), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(b.inputs[0].shape, [2, 2, 1]);
  assert.deepEqual(Array.from(b.targets.angle), [Math.fround(0.1), Math.fround(0.2)]);
  assert.ok(b.targets.angle instanceof Float32Array);
  b.inputs[0].values[0] = 99;
  assert.equal(images.inputs[0].values[0], 0, 'the split is not touched');
  assert.equal(gatherBatch(images, [0, 1, 2], 3, 3).inputs[0].values.length, 0);
});

test('epoch orders of tiny sets', () => {
  assert.deepEqual(Array.from(epochOrder(0, 1, 0)), []);
  assert.deepEqual(Array.from(epochOrder(1, 1, 0)), [0]);
});

test('neighbouring packed inputs share one model input, side by side; others stay alone', () => {
  const inputs = [
    { shape: [1], packed: true },
    { shape: [2], packed: true },
    { shape: [2, 2, 1], packed: false },
    { shape: [1], packed: true },
  ];
  assert.deepEqual(modelInputGroups(inputs), [[0, 1], [2], [3]]);
  const arrays = [Float32Array.from([1, 2]), Float32Array.from([10, 11, 20, 21]), Float32Array.from({ length: 8 }, (_, i) => i), Float32Array.from([7, 8])];
  const split: Split = { size: 2, inputs: inputs.map((input, i) => ({ name: `in${i}`, ...input, values: arrays[i] })), targets: {}, rows: Int32Array.from([2, 3]) };
  const packed = gatherBatch(split, [0, 1], 0, 2).inputs;
  assert.deepEqual(packed.map((p) => p.shape), [[3], [2, 2, 1], [1]]);
  assert.deepEqual(Array.from(packed[0].values), [1, 10, 11, 2, 20, 21], 'row by row: input 0 then input 1');
  assert.deepEqual(Array.from(packed[1].values), Array.from(arrays[2]), 'a lone input keeps its values');
});
