/**
 * The derived regression target of image sets: image i of a file is rotated about
 * its centre by an angle drawn uniformly in [-max, max] degrees from a stream seeded
 * by (seed, i); the angle becomes the target. Bilinear interpolation, zero fill.
 */
import { deriveSeed, Rng } from './rng';

const ROTATION_STREAM = 0x524f54;

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
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // Inverse mapping: where in the source does this output pixel come from?
      const dx = x - cx;
      const dy = y - cy;
      const sx = cos * dx - sin * dy + cx;
      const sy = sin * dx + cos * dy + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < channels; c++) {
        const at = (yy: number, xx: number) => (yy < 0 || yy >= height || xx < 0 || xx >= width ? 0 : src[(yy * width + xx) * channels + c]);
        out[(y * width + x) * channels + c] =
          (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
      }
    }
  }
}
