/** Mini-batches: a seeded order per epoch, and rows gathered into contiguous arrays. */
import { deriveSeed, permutation } from './rng';
import { augmentImage } from './augment';
import type { Split } from './types';

const EPOCH_STREAM = 0x45504f;

/** The order of the training samples in `epoch`: reshuffled every epoch, fixed by the seed. */
export function epochOrder(size: number, seed: number, epoch: number): Uint32Array {
  return permutation(size, deriveSeed(seed, EPOCH_STREAM, epoch));
}

export interface Batch {
  /** Per model input (see modelInputGroups): n * its width values, and the shape of one sample. */
  inputs: { values: Float32Array; shape: number[] }[];
  targets: Record<string, Int32Array | Float32Array>;
}

/** Values per sample of an input of this shape. */
export function sampleSize(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The model's inputs as groups of data inputs: consecutive `packed` inputs (flat
 * vectors whose encoder is the identity: numbers, one-hot categories) share one model
 * input, side by side, so a table of many columns is one tensor per step, not one per
 * column; every other input is a model input of its own.
 */
export function modelInputGroups(inputs: { packed: boolean }[]): number[][] {
  const groups: number[][] = [];
  inputs.forEach((input, i) => {
    const last = groups[groups.length - 1];
    if (input.packed && last && inputs[last[0]].packed) last.push(i);
    else groups.push([i]);
  });
  return groups;
}

/**
 * Copies samples order[start..end) of `split` into fresh contiguous arrays, one per
 * model input (packed inputs side by side); with `augmentSeed`, image inputs that ask
 * for it are augmented (training batches).
 */
export function gatherBatch(split: Split, order: ArrayLike<number>, start: number, end: number, augmentSeed?: number): Batch {
  const n = end - start;
  const inputs = modelInputGroups(split.inputs).map((group) => {
    const members = group.map((i) => split.inputs[i]);
    const sizes = members.map((m) => sampleSize(m.shape));
    const width = sizes.reduce((a, b) => a + b, 0);
    const out = new Float32Array(n * width);
    let offset = 0;
    members.forEach(({ values, shape, augment }, k) => {
      const size = sizes[k];
      for (let r = 0; r < n; r++) {
        const row = order[start + r];
        const at = r * width + offset;
        if (size === 1) out[at] = values[row];
        else out.set(values.subarray(row * size, (row + 1) * size), at);
        if (augment && augmentSeed !== undefined) augmentImage(out.subarray(at, at + size), shape, augment, augmentSeed, row);
      }
      offset += size;
    });
    return { values: out, shape: group.length === 1 ? members[0].shape : [width] };
  });
  const targets: Batch['targets'] = {};
  for (const [task, values] of Object.entries(split.targets)) {
    const k = values.length / split.size;
    const out = values instanceof Int32Array ? new Int32Array(n * k) : new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      const row = order[start + i];
      if (k === 1) out[i] = values[row];
      else out.set(values.subarray(row * k, (row + 1) * k), i * k);
    }
    targets[task] = out;
  }
  return { inputs, targets };
}
