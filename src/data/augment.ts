/**
 * Training-only image augmentation, seeded per (step, sample): a horizontal flip with
 * probability 1/2, and a shift of up to `crop_padding` + `translate` pixels each way
 * with zero fill (a random crop of the zero-padded image is exactly such a shift).
 * The draw depends on the sample's row, not on which thread's shard holds it, so one
 * thread and N threads see the same images, and a resumed run repeats them.
 */
import { deriveSeed, Rng } from './rng';

export interface ImageAugment {
  flip: boolean;
  crop_padding: number;
  translate: number;
}

const AUGMENT_STREAM = 0x415547;

export function augmentImage(image: Float32Array, shape: number[], augment: ImageAugment, seed: number, row: number): void {
  const [height, width, channels] = shape;
  const rng = new Rng(deriveSeed(seed, AUGMENT_STREAM, row));
  const flip = augment.flip && rng.next() < 0.5;
  const reach = augment.crop_padding + augment.translate;
  const dy = reach ? rng.int(2 * reach + 1) - reach : 0;
  const dx = reach ? rng.int(2 * reach + 1) - reach : 0;
  if (!flip && dx === 0 && dy === 0) return;
  const source = image.slice();
  for (let y = 0; y < height; y++) {
    const sy = y - dy;
    for (let x = 0; x < width; x++) {
      const sx0 = x - dx;
      const sx = flip ? width - 1 - sx0 : sx0;
      const o = (y * width + x) * channels;
      const inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
      for (let c = 0; c < channels; c++) image[o + c] = inside ? source[(sy * width + sx) * channels + c] : 0;
    }
  }
}
