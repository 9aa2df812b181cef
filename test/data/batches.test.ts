import { test } from 'node:test';
import assert from 'node:assert/strict';
import { epochOrder, gatherBatch } from '../../src/data/batches';
import type { Split } from '../../src/data/types';

const split: Split = {
  size: 4,
  featureShape: [2],
  features: Float32Array.from([0, 1, 10, 11, 20, 21, 30, 31]),
  targets: { c: Int32Array.from([0, 1, 2, 3]), r: Float32Array.from([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]) },
  rows: Int32Array.from([2, 3, 4, 5]),
};

test('gatherBatch copies the chosen rows with their targets', () => {
  const b = gatherBatch(split, [3, 1, 0, 2], 0, 2);
  assert.deepEqual(Array.from(b.features), [30, 31, 10, 11]);
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
