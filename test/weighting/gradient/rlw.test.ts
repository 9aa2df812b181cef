import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/data/rng';
import { createRlw } from '../../../src/weighting/gradient/rlw';

const close = (a: number, b: number, what: string, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} != ${b}`);
const f32 = (xs: number[]) => Float32Array.from(xs);
const set = { grads: [f32([1, 0]), f32([0, 1]), f32([-1, 2])], losses: [1, 1, 1] };

test('RLW: weights are the softmax of three standard normal draws from the step rng', () => {
  const method = createRlw({}, 3);
  for (let seed = 1; seed <= 20; seed++) {
    const { direction, weights } = method.aggregate(set, { step: seed, rng: new Rng(seed) });
    const rng = new Rng(seed);
    const z = [rng.normal(), rng.normal(), rng.normal()];
    const e = z.map(Math.exp);
    const total = e[0] + e[1] + e[2];
    e.forEach((v, t) => close(weights[t], v / total, `w_${t}`, 1e-12));
    close(weights[0] + weights[1] + weights[2], 1, 'sum', 1e-12);
    assert.ok(weights.every((w) => w > 0));
    close(direction[0], weights[0] - weights[2], 'd_0');
    close(direction[1], weights[1] + 2 * weights[2], 'd_1');
  }
});

test('RLW: seeded (same seed, same weights; another seed, others) and fair on average', () => {
  const method = createRlw({}, 3);
  assert.deepEqual(method.aggregate(set, { step: 1, rng: new Rng(9) }), method.aggregate(set, { step: 1, rng: new Rng(9) }));
  assert.notDeepEqual(method.aggregate(set, { step: 1, rng: new Rng(9) }).weights, method.aggregate(set, { step: 1, rng: new Rng(10) }).weights);
  const rng = new Rng(4);
  const mean = [0, 0, 0];
  for (let i = 0; i < 20000; i++) method.aggregate(set, { step: i + 1, rng }).weights.forEach((w, t) => (mean[t] += w / 20000));
  for (const m of mean) close(m, 1 / 3, 'mean weight', 0.01);
});
