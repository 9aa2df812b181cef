import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Collective } from '../../../src/training/parallel/collective';
import { collectiveLength, reduceInChunks, type Segment } from '../../../src/training/parallel/reducer';

test('values are reduced through chunks of the shared memory: segments split across chunks, empty ones, zeros and sums in place', () => {
  const chunk = 7;
  // One rank: the sum is that rank's scaled values, so every value must land where it came from.
  const collective = new Collective(Collective.allocate(1, chunk), 0, 1, chunk);
  const values = (n: number, base: number) => Float32Array.from({ length: n }, (_, i) => base + i);
  const inPlace = values(12, 100);
  const segments: Segment[] = [
    { from: values(5, 1), scale: 0.5, to: new Float32Array(5) },
    { from: values(3, 10), scale: 2, to: new Float32Array(3) },
    { from: values(0, 0), scale: 1, to: new Float32Array(0) },
    { from: undefined, scale: 1, to: new Float32Array(4).fill(9) },
    { from: inPlace, scale: 0.25, to: inPlace },
    { from: values(9, 20), scale: 1, to: new Float32Array(9), byShare: true },
    { from: values(2, 40), scale: 1, to: new Float32Array(2) },
    { from: values(3, 50), scale: 1, to: new Float32Array(3), byShare: true },
  ];
  // The rank's share multiplies the values of byShare segments, wherever the chunks split them.
  collective.setShare(0.375);
  const expected = [
    values(5, 1).map((v) => 0.5 * v), values(3, 10).map((v) => 2 * v), new Float32Array(0), new Float32Array(4), values(12, 100).map((v) => 0.25 * v),
    values(9, 20).map((v) => 0.375 * v), values(2, 40), values(3, 50).map((v) => 0.375 * v),
  ];
  reduceInChunks(collective, segments);
  segments.forEach((s, k) => assert.deepEqual(Array.from(s.to), Array.from(expected[k]), `segment ${k}`));
});

test('the shared memory holds a chunk, not the whole gradient', () => {
  assert.equal(collectiveLength(1000), 1000);
  assert.equal(collectiveLength(23_600_000), 1 << 20);
});
