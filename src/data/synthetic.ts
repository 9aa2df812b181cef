/**
 * A seeded procedural image set for tests and demos: one filled shape per image
 * (class 0 disc, 1 square, 2 triangle, 3 cross) at a random scale, which is the
 * regression target. Small enough for a tiny CNN to learn both in seconds.
 */
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { writeIdx } from './idx';
import { Rng } from './rng';

export const SHAPE_CLASSES = ['disc', 'square', 'triangle', 'cross'];

export interface Shapes {
  /** n x size x size, 0..255 */
  images: Uint8Array;
  labels: Uint8Array;
  /** Shape radius as a fraction of half the image, in [0.3, 0.9]. */
  scales: Float32Array;
}

export function makeShapes(options: { n: number; size: number; seed: number }): Shapes {
  const { n, size, seed } = options;
  const rng = new Rng(seed);
  const images = new Uint8Array(n * size * size);
  const labels = new Uint8Array(n);
  const scales = new Float32Array(n);
  const half = size / 2;
  for (let i = 0; i < n; i++) {
    const label = rng.int(SHAPE_CLASSES.length);
    const scale = rng.uniform(0.3, 0.9);
    const cx = half + rng.uniform(-1, 1);
    const cy = half + rng.uniform(-1, 1);
    const r = scale * half;
    labels[i] = label;
    scales[i] = scale;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        let inside: boolean;
        if (label === 0) inside = dx * dx + dy * dy <= r * r;
        else if (label === 1) inside = Math.abs(dx) <= r * 0.8 && Math.abs(dy) <= r * 0.8;
        else if (label === 2) inside = dy <= r * 0.7 && dy >= -r && Math.abs(dx) <= ((dy + r) / (1.7 * r)) * r;
        else inside = (Math.abs(dx) <= r * 0.3 && Math.abs(dy) <= r) || (Math.abs(dy) <= r * 0.3 && Math.abs(dx) <= r);
        if (inside) images[(i * size + y) * size + x] = 200 + rng.int(56);
      }
    }
  }
  return { images, labels, scales };
}

/** Writes images-idx3-ubyte.gz, labels-idx1-ubyte.gz and scale-idx1-float.gz into `dir`. */
export function writeShapesDataset(dir: string, options: { n: number; size: number; seed: number }): { images: string; labels: string; scale: string } {
  mkdirSync(dir, { recursive: true });
  const { images, labels, scales } = makeShapes(options);
  const files = {
    images: path.join(dir, 'images-idx3-ubyte.gz'),
    labels: path.join(dir, 'labels-idx1-ubyte.gz'),
    scale: path.join(dir, 'scale-idx1-float.gz'),
  };
  writeIdx(files.images, { type: 'ubyte', dims: [options.n, options.size, options.size], data: images }, { gzip: true });
  writeIdx(files.labels, { type: 'ubyte', dims: [options.n], data: labels }, { gzip: true });
  writeIdx(files.scale, { type: 'float32', dims: [options.n], data: scales }, { gzip: true });
  return files;
}
