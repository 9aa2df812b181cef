/**
 * The derived regression target of image sets: image i of a file is rotated about
 * its centre by an angle drawn uniformly in [-max, max] degrees from a stream seeded
 * by (seed, i); the angle becomes the target. Bilinear interpolation, zero fill.
 */
import { deriveSeed, Rng } from './rng';

const ROTATION_STREAM = 0x524f54;

/** The angle (degrees) of image `index`: uniform in [-maxDegrees, maxDegrees), from Rng(deriveSeed(seed, 0x524f54, index)). */
export function rotationAngle(seed: number, index: number, maxDegrees: number): number {
  return new Rng(deriveSeed(seed, ROTATION_STREAM, index)).uniform(-maxDegrees, maxDegrees);
}

/** Rotates an H x W x C image (row-major) counter-clockwise by `degrees` into `out`. */
export function rotateImage(src: Float32Array, out: Float32Array, height: number, width: number, channels: number, degrees: number): void {
  const theta = (degrees * Math.PI) / 180;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const cy = (height - 1) / 2;
  const cx = (width - 1) / 2;
  const stride = width * channels;
  for (let y = 0; y < height; y++) {
    const dy = y - cy;
    for (let x = 0; x < width; x++) {
      // Inverse mapping: where in the source does this output pixel come from?
      const dx = x - cx;
      const sx = cos * dx - sin * dy + cx;
      const sy = sin * dx + cos * dy + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const o = (y * width + x) * channels;
      const p = (y0 * width + x0) * channels;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < width && y0 + 1 < height) {
        for (let c = 0; c < channels; c++) {
          const q = p + c;
          out[o + c] = bilinear(src[q], src[q + channels], src[q + stride], src[q + stride + channels], fx, fy);
        }
      } else if (x0 < -1 || y0 < -1 || x0 >= width || y0 >= height) {
        for (let c = 0; c < channels; c++) out[o + c] = 0;
      } else {
        // On the border: neighbours outside the image count as zero.
        const inX0 = x0 >= 0;
        const inX1 = x0 + 1 < width;
        const inY0 = y0 >= 0;
        const inY1 = y0 + 1 < height;
        for (let c = 0; c < channels; c++) {
          const q = p + c;
          const a = inY0 && inX0 ? src[q] : 0;
          const b = inY0 && inX1 ? src[q + channels] : 0;
          const d = inY1 && inX0 ? src[q + stride] : 0;
          const e = inY1 && inX1 ? src[q + stride + channels] : 0;
          out[o + c] = bilinear(a, b, d, e, fx, fy);
        }
      }
    }
  }
}

/** a b over d e, weighted; the same expression (so the same rounding) as every earlier version. */
function bilinear(a: number, b: number, d: number, e: number, fx: number, fy: number): number {
  return (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * d + fx * e);
}
