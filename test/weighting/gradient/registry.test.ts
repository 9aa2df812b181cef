import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/data/rng';
import { createGradientMethod, gradientMethodDefaults, gradientMethodNames, gradientMethodRegistry } from '../../../src/weighting/gradient';
import type { GradientMethod, GradientSet } from '../../../src/weighting/gradient';

const f32 = (xs: number[]) => Float32Array.from(xs);
const dotp = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
const create = (name: (typeof gradientMethodNames)[number], tasks: number): GradientMethod => gradientMethodRegistry[name]({}, tasks);

function randomSet(rng: Rng, tasks: number, size: number): GradientSet {
  return {
    grads: Array.from({ length: tasks }, () => f32(Array.from({ length: size }, () => rng.normal() * Math.exp(rng.normal())))),
    losses: Array.from({ length: tasks }, () => 0.1 + rng.next()),
  };
}

test('registry: the eight methods by config name, each with its defaults', () => {
  assert.deepEqual([...gradientMethodNames], ['mgda', 'pcgrad', 'cagrad', 'imtl', 'nash_mtl', 'aligned_mtl', 'upgrad']);
  assert.deepEqual(Object.keys(gradientMethodDefaults), [...gradientMethodNames]);
  assert.deepEqual(gradientMethodDefaults.cagrad, { c: 0.5, rescale: 1 });
  assert.deepEqual(gradientMethodDefaults.nash_mtl, { max_norm: 1.0, update_weights_every: 1, optim_niter: 20 });
  assert.deepEqual(gradientMethodDefaults.mgda, { normalization: 'none' });
  assert.deepEqual(gradientMethodDefaults.upgrad, { pref_vector: null, norm_eps: 1e-4, reg_eps: 1e-4 });
  for (const name of gradientMethodNames) {
    assert.equal(gradientMethodRegistry[name]({ ...gradientMethodDefaults[name] } as never, 3).name, name);
    assert.equal(createGradientMethod(name, {}, 3).name, name);
  }
});

test('contract: every method, 2–4 random tasks: finite direction = Σ w_t g_t, deterministic per seed, exact resume', () => {
  const rng = new Rng(2024);
  for (const name of gradientMethodNames) {
    for (let trial = 0; trial < 12; trial++) {
      const tasks = 2 + (trial % 3);
      const size = 1 + rng.int(12);
      const sets = Array.from({ length: 5 }, () => randomSet(rng, tasks, size));
      // A task whose gradient is all zeros must not break anything.
      if (trial === 11) sets[4].grads[0].fill(0);
      const seeds = sets.map(() => rng.seed());
      const a = create(name, tasks);
      const b = create(name, tasks);
      for (let step = 1; step <= 3; step++) {
        const out = a.aggregate(sets[step - 1], { step, rng: new Rng(seeds[step - 1]) });
        assert.deepEqual(b.aggregate(sets[step - 1], { step, rng: new Rng(seeds[step - 1]) }), out, `${name}: same seed, same answer`);
      }
      const state = a.getState();
      const saved = JSON.parse(JSON.stringify(state));
      assert.deepEqual(saved, state, `${name}: state is JSON-safe`);
      const resumed = create(name, tasks);
      resumed.setState(saved);
      for (let step = 4; step <= 5; step++) {
        const { direction, weights } = a.aggregate(sets[step - 1], { step, rng: new Rng(seeds[step - 1]) });
        assert.deepEqual(resumed.aggregate(sets[step - 1], { step, rng: new Rng(seeds[step - 1]) }), { direction, weights }, `${name}: resumed`);
        assert.equal(direction.length, size, `${name}: direction length`);
        assert.equal(weights.length, tasks, `${name}: weights length`);
        assert.ok(direction.every(Number.isFinite) && weights.every(Number.isFinite), `${name}: finite`);
        const { grads } = sets[step - 1];
        const scale = Math.max(1e-30, ...grads.map((g, t) => Math.abs(weights[t]) * Math.hypot(...g)));
        for (let k = 0; k < size; k++) {
          const combined = grads.reduce((s, g, t) => s + weights[t] * g[k], 0);
          assert.ok(Math.abs(direction[k] - combined) <= 1e-5 * scale, `${name}: direction = Σ w g`);
        }
      }
    }
  }
});

test('contract: on two conflicting tasks the direction conflicts with neither (methods that guarantee it)', () => {
  // |g1| = 1, |g2| = √17, cos = −0.97.
  const set = { grads: [f32([1, 0]), f32([-4, 1])], losses: [1, 1] };
  // Not asserted:
  // - cagrad: c = 0.5 keeps d within 0.5|g0| of g0 = [-1.5, 0.5] (|g0| ≈ 1.58), so d_x ≤ −0.71 and d·g1 < 0;
  //   CAGrad guarantees no conflict only as c grows (c ≥ 1 reaches MGDA's behaviour), not at its default.
  // - aligned_mtl: G d = √λ_min·M^(1/2)·1, and M^(1/2)'s negative off-diagonal makes task 1's entry
  //   |g1|² + g1·g2 + |g1||g2||sin θ| = 1 − 4 + 1 < 0 here (Aligned-MTL balances, it does not project).
  // Asserted: mgda (d·g_t ≥ |d|²), imtl (two tasks: α_t ∝ 1/|g_t| > 0 and d ∥ u1 + u2), nash_mtl
  // (d·g_t = 1/α_t > 0), upgrad (each projection lies in the dual cone), and pcgrad, which for two
  // tasks gives d·g1 = |g1|² sin²θ ≥ 0 (pc2 ⊥ g1) though not in general for more tasks.
  for (const name of ['mgda', 'pcgrad', 'imtl', 'nash_mtl', 'upgrad'] as const) {
    for (const grads of [set.grads, [set.grads[1], set.grads[0]]]) {
      const { direction } = create(name, 2).aggregate({ grads, losses: [1, 1] }, { step: 1, rng: new Rng(3) });
      const dn = Math.hypot(...direction);
      assert.ok(dn > 0, `${name}: a direction`);
      for (const g of grads) assert.ok(dotp(direction, g) >= -1e-6 * dn * Math.hypot(...g), `${name}: conflicts with [${g}]`);
    }
  }
});

test('contract: a NaN or infinite gradient gives a non-finite direction, never an exception', () => {
  for (const name of gradientMethodNames) {
    for (const bad of [NaN, Infinity]) {
      const grads = [f32([1, 0, 2]), f32([0, bad, 1]), f32([-1, 1, 0])];
      const { direction } = create(name, 3).aggregate({ grads, losses: [1, 1, 1] }, { step: 1, rng: new Rng(1) });
      assert.ok(!direction.every(Number.isFinite), `${name}: ${bad}`);
    }
  }
});

test('contract: wrong shapes and options are refused', () => {
  const set = { grads: [f32([1, 0]), f32([0, 1])], losses: [1, 1] };
  for (const name of gradientMethodNames) {
    assert.throws(() => create(name, 3).aggregate(set, { step: 1, rng: new Rng(1) }), /expected 3 task gradients/, name);
    assert.throws(() => create(name, 2).aggregate({ grads: [f32([1, 0]), f32([0, 1, 2])], losses: [1, 1] }, { step: 1, rng: new Rng(1) }), /differ in length/, name);
    assert.throws(() => create(name, 0), /taskCount/, name);
  }
});
