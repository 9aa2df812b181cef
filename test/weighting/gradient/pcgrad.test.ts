import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/data/rng';
import { createPcgrad } from '../../../src/weighting/gradient/pcgrad';

const close = (a: number, b: number, what: string, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} != ${b}`);
const closeAll = (a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-6) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) close(a[i], b[i], `${what}[${i}]`, tol);
};
const f32 = (xs: number[]) => Float32Array.from(xs);
const run = (grads: number[][], seed: number) =>
  createPcgrad({}, grads.length).aggregate({ grads: grads.map(f32), losses: grads.map(() => 1) }, { step: 1, rng: new Rng(seed) });

/** LibMTL's PCGrad.backward on plain vectors, drawing its orders from `rng` the same way. */
function reference(grads: number[][], rng: Rng): number[] {
  const dotp = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
  const pc = grads.map((g) => [...g]);
  for (let i = 0; i < grads.length; i++) {
    for (const j of rng.shuffle(grads.map((_, k) => k))) {
      const gij = dotp(pc[i], grads[j]);
      if (gij < 0) pc[i] = pc[i].map((v, k) => v - (gij * grads[j][k]) / dotp(grads[j], grads[j]));
    }
  }
  return grads[0].map((_, k) => pc.reduce((s, p) => s + p[k], 0));
}

test('PCGrad on [1,0] and [-1,1]: the sum of the two projections, whichever order', () => {
  // pc1 = g1 − (g1·g2/|g2|²) g2 = [0.5, 0.5]; pc2 = g2 − (g2·g1/|g1|²) g1 = [0, 1]
  for (let seed = 1; seed <= 20; seed++) {
    const forward = run([[1, 0], [-1, 1]], seed);
    closeAll(forward.direction, [0.5, 1.5], 'direction');
    // pc1 + pc2 = (g1 + 0.5 g2) + (g2 + g1)
    closeAll(forward.weights, [2, 1.5], 'weights');
    const backward = run([[-1, 1], [1, 0]], seed);
    closeAll(backward.direction, [0.5, 1.5], 'direction, tasks swapped');
    closeAll(backward.weights, [1.5, 2], 'weights, tasks swapped');
  }
});

test('PCGrad: gradients that do not conflict are summed unchanged', () => {
  const { direction, weights } = run([[1, 0], [1, 1], [0, 2]], 3);
  closeAll(direction, [2, 3], 'direction');
  closeAll(weights, [1, 1, 1], 'weights');
});

test('PCGrad: with three tasks the drawn order matters, and matches the vector algorithm for each seed', () => {
  const grads = [[1, 0, 0.2], [-0.8, 1, 0], [-0.3, -1, 0.5]];
  const seen = new Set<string>();
  for (let seed = 1; seed <= 40; seed++) {
    const { direction, weights } = run(grads, seed);
    const expected = reference(grads, new Rng(seed));
    closeAll(direction, expected, `seed ${seed}`, 1e-5);
    closeAll(direction, grads[0].map((_, k) => grads.reduce((s, g, t) => s + weights[t] * g[k], 0)), 'direction = Σ w g', 1e-5);
    seen.add([...direction].map((v) => v.toFixed(4)).join());
    assert.deepEqual(run(grads, seed), run(grads, seed), 'same seed, same answer');
  }
  assert.ok(seen.size > 1, 'different orders give different directions');
});
