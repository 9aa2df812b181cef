/** Small convolution cases shared by the kernel tests, and the gradients they check. */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../../src/data/rng';

export interface Case {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  stride: number;
  pad: 'same' | 'valid';
}

// Stride 1 and 2, same and valid padding, 1x1 and 3x3 filters, batch 1 and odd,
// channels that are not multiples of 4, non-square and odd-sized inputs.
export const cases: Case[] = [
  { n: 1, h: 5, w: 5, ci: 1, co: 1, k: 3, stride: 1, pad: 'same' },
  { n: 3, h: 7, w: 6, ci: 3, co: 5, k: 3, stride: 1, pad: 'valid' },
  { n: 3, h: 8, w: 8, ci: 2, co: 3, k: 3, stride: 2, pad: 'same' },
  { n: 1, h: 9, w: 7, ci: 5, co: 2, k: 3, stride: 2, pad: 'valid' },
  { n: 3, h: 8, w: 5, ci: 6, co: 7, k: 1, stride: 2, pad: 'same' },
  { n: 2, h: 6, w: 6, ci: 3, co: 4, k: 1, stride: 1, pad: 'valid' },
  { n: 3, h: 10, w: 9, ci: 3, co: 2, k: 5, stride: 2, pad: 'same' },
];

export function random(shape: number[], rng: Rng): Float32Array {
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
}

/** Gradients of sum(conv2d(x, w) · r) with respect to x and w, on the current backend. */
export function convGrads(c: Case, x: Float32Array, w: Float32Array, r: Float32Array, outShape: number[]): { dx: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, [c.n, c.h, c.w, c.ci]);
    const wt = tf.tensor4d(w, [c.k, c.k, c.ci, c.co]);
    const rt = tf.tensor(r, outShape);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), rt)));
    const [dx, dw] = g([xt, wt]);
    return { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  });
}

export function outputShape(c: Case): number[] {
  const out = (size: number) => (c.pad === 'same' ? Math.ceil(size / c.stride) : Math.floor((size - c.k) / c.stride) + 1);
  return [c.n, out(c.h), out(c.w), c.co];
}

export function lossAt(c: Case, x: Float32Array, w: Float32Array, r: Float32Array, outShape: number[]): number {
  return tf.tidy(() => {
    const y = tf.conv2d(tf.tensor4d(x, [c.n, c.h, c.w, c.ci]), tf.tensor4d(w, [c.k, c.k, c.ci, c.co]), c.stride, c.pad);
    return tf.sum(tf.mul(y, tf.tensor(r, outShape))).dataSync()[0];
  });
}

