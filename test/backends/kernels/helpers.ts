/** Shared helpers for the kernel tests: seeded data, comparisons, finite differences. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** Deterministic values in [-1, 1) (a small LCG; tests must not depend on Math.random). */
export function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(values(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/** Runs f on `backend` and returns its result's values (tensors disposed). */
export async function on(backend: string, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const data = list.map((t) => t.dataSync() as Float32Array);
  tf.dispose(list);
  return data;
}

/** |a - b| <= atol + rtol * max|b| elementwise, with a readable message. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-4, atol = 1e-5): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) if (Number.isFinite(expected[i])) scale = Math.max(scale, Math.abs(expected[i]));
  const tol = atol + rtol * scale;
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i]) && Number.isNaN(actual[i])) continue;
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= tol)) assert.fail(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]} (|diff| ${d} > ${tol})`);
  }
}

/**
 * Central finite differences of loss = sum(f(xs) * r) (accumulated in double
 * precision) with respect to a few entries of xs[which]; returns [index, dloss].
 */
export function finiteDifferences(
  f: (xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], r: Float32Array, which: number, entries: number[], eps: number,
): [number, number][] {
  const loss = (inputs: tf.Tensor[]): number => {
    const y = tf.tidy(() => f(inputs));
    const v = y.dataSync();
    y.dispose();
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i] * r[i];
    return s;
  };
  const base = xs[which].dataSync() as Float32Array;
  return entries.map((i) => {
    const shifted = (delta: number): number => {
      const copy = Float32Array.from(base);
      copy[i] += delta;
      const t = tf.tensor(copy, xs[which].shape);
      const inputs = xs.map((x, k) => (k === which ? t : x));
      const l = loss(inputs);
      t.dispose();
      return l;
    };
    return [i, (shifted(eps) - shifted(-eps)) / (2 * eps)];
  });
}

/** Asserts gradient entries against finite differences. */
export function assertMatchesFiniteDifferences(
  grad: ArrayLike<number>, fd: [number, number][], what: string, rtol: number, atol: number,
): void {
  for (const [i, expected] of fd) {
    const d = Math.abs(grad[i] - expected);
    if (!(d <= atol + rtol * Math.abs(expected))) {
      assert.fail(`${what}: d/dx[${i}] is ${grad[i]}, finite differences give ${expected}`);
    }
  }
}

/** A few spread-out indices into an array of n elements. */
export function someEntries(n: number, count = 5): number[] {
  const out = new Set<number>([0, n - 1]);
  for (let k = 1; out.size < Math.min(n, count); k++) out.add(Math.floor((k * n * 0.618) % n));
  return [...out];
}

/** Counts calls of a registered kernel while `f` runs (to prove a replacement is the one used). */
export async function countCalls(kernelName: string, backend: string, f: () => Promise<void> | void): Promise<number> {
  const config = tf.getKernel(kernelName, backend);
  assert.ok(config !== undefined, `${kernelName} registered for ${backend}`);
  let calls = 0;
  tf.unregisterKernel(kernelName, backend);
  tf.registerKernel({ ...config, kernelFunc: (args) => { calls++; return config.kernelFunc(args); } });
  try {
    await f();
  } finally {
    tf.unregisterKernel(kernelName, backend);
    tf.registerKernel(config);
  }
  return calls;
}

/**
 * Each gradient of `actual` within rtol of the largest |value| of the same gradient in
 * `expected` (plus atol), in order; `nonZero`: every expected gradient has some value.
 */
export function assertGradientsMatch(
  actual: { name: string; values: Float32Array }[],
  expected: { name: string; values: Float32Array }[],
  options: { rtol: number; atol: number; nonZero: boolean },
): void {
  assert.equal(actual.length, expected.length, 'as many gradients');
  for (const [k, { name, values: b }] of expected.entries()) {
    const a = actual[k].values;
    let scale = 0;
    let err = 0;
    for (let i = 0; i < b.length; i++) {
      scale = Math.max(scale, Math.abs(b[i]));
      err = Math.max(err, Math.abs(a[i] - b[i]));
    }
    if (options.nonZero) assert.ok(scale > 0, `${name}: some gradient`);
    assert.ok(err <= options.rtol * scale + options.atol, `${name}: max |diff| ${err}, max |grad| ${scale}`);
  }
}

/** sum(y²) of a layer in training mode, and the gradients of its input (a variable here) and of its trainable weights. */
export function layerLossAndGradients(layer: tfl.layers.Layer, x: tf.Tensor): Float32Array[] {
  const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  const xv = tf.variable(x);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(layer.apply(xv, { training: true }) as tf.Tensor)) as tf.Scalar, [xv, ...vars]);
  const out = [value, grads[xv.name], ...vars.map((v) => grads[v.name])].map((t) => t.dataSync() as Float32Array);
  tf.dispose([xv, value, ...Object.values(grads)]);
  return out;
}
