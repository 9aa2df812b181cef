import { util } from '@tensorflow/tfjs-core';

/**
 * out[s] = Σ_{i: ids[i] = s} x[i] over rows of `inner` values; ids outside
 * [0, numSegments) are dropped, as in TensorFlow. The gradient of Gather (every
 * embedding): one pass over x, where the stock cpu kernel makes a masked sum per segment.
 */
export function segmentSumInto(values: ArrayLike<number>, ids: ArrayLike<number>, rows: number, inner: number, numSegments: number, out: Float32Array | Int32Array): void {
  out.fill(0);
  for (let i = 0; i < rows; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const o = s * inner;
    const p = i * inner;
    for (let j = 0; j < inner; j++) out[o + j] += values[p + j];
  }
}

export function segmentGeometry(xShape: number[], idsShape: number[]): { rows: number; inner: number; outShape: (numSegments: number) => number[] } {
  const rows = util.sizeFromShape(idsShape);
  const total = util.sizeFromShape(xShape);
  return { rows, inner: rows > 0 ? total / rows : 0, outShape: (numSegments) => [numSegments, ...xShape.slice(idsShape.length)] };
}
