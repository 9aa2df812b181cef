import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapStatistics } from 'node:v8';
import { HeapGuard } from '../../src/data/heap-guard';

const heap = () => {
  const s = getHeapStatistics();
  return s.used_heap_size + s.external_memory;
};

test('the heap guard collects the garbage of reading blocks once it has grown by its budget', () => {
  const budget = 8 * 2 ** 20;
  const guard = new HeapGuard(budget);
  guard.check();
  const start = heap();
  let highest = start;
  let kept: number[][] = [];
  // Blocks of garbage that outlive a few young-generation collections, as decoded pages do.
  for (let block = 0; block < 200; block++) {
    kept.push(Array.from({ length: 20000 }, (_, i) => i + block + 0.5));
    if (kept.length > 4) kept = kept.slice(1);
    guard.check();
    highest = Math.max(highest, heap());
  }
  assert.ok(guard.collections > 0, 'it collected');
  // Each block is 160 KB of doubles: the heap stays within the budget (and what a block holds) of where it began.
  assert.ok(highest - start < budget + 16 * 2 ** 20, `the heap grew by ${((highest - start) / 2 ** 20).toFixed(1)} MB`);
});

test('the heap guard leaves a heap that stays within its budget alone', () => {
  const guard = new HeapGuard(2 ** 30);
  for (let i = 0; i < 50; i++) {
    Array.from({ length: 1000 }, (_, k) => k);
    guard.check();
  }
  assert.equal(guard.collections, 0);
});
