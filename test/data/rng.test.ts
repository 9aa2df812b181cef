import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, permutation, deriveSeed } from '../../src/data/rng';

test('the same seed gives the same stream, another seed another', () => {
  const a = new Rng(7), b = new Rng(7), c = new Rng(8);
  const sa = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(sa, Array.from({ length: 5 }, () => b.next()));
  assert.notDeepEqual(sa, Array.from({ length: 5 }, () => c.next()));
});

test('permutation holds every index once', () => {
  const p = Array.from(permutation(100, deriveSeed(1, 2)));
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
  assert.notDeepEqual(p, Array.from({ length: 100 }, (_, i) => i));
});

test('state round-trips', () => {
  const a = new Rng(3);
  a.next();
  const b = new Rng(0);
  b.setState(a.getState());
  assert.equal(a.next(), b.next());
});
