import { defaultImageEncoder } from '../../src/config/schema';
import type { InputSpec } from '../../src/inputs';
import type { Preprocessing, Split } from '../../src/data/types';

/** Every input of a split side by side: n x width, row-major (a table as the combiner sees it). */
export function flatFeatures(split: Split): Float32Array {
  const sizes = split.inputs.map((i) => i.shape.reduce((a, b) => a * b, 1));
  const width = sizes.reduce((a, b) => a + b, 0);
  const out = new Float32Array(split.size * width);
  for (let r = 0; r < split.size; r++) {
    let o = r * width;
    split.inputs.forEach((input, k) => {
      out.set(input.values.subarray(r * sizes[k], (r + 1) * sizes[k]), o);
      o += sizes[k];
    });
  }
  return out;
}

/** Values per sample over all inputs. */
export function featureWidth(pre: Preprocessing): number {
  return pre.inputs.reduce((n, i) => n + i.shape.reduce((a, b) => a * b, 1), 0);
}

/** One input of this sample shape: a numeric block for [F], an image for [H, W, C]. */
export function singleInput(shape: number[]): InputSpec[] {
  if (shape.length === 1) return [{ name: 'x', type: 'numeric', shape, state: { mean: 0, std: 1 } }];
  return [{ name: 'image', type: 'image', shape, state: { height: shape[0], width: shape[1], channels: shape[2], resize: false, encoder: defaultImageEncoder() } }];
}
