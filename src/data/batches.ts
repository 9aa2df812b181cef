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
  /** Per input, in the split's order: n * prod(shape) values. */
  inputs: Float32Array[];
  targets: Record<string, Int32Array | Float32Array>;
}

/** Values per sample of an input of this shape. */
export function sampleSize(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Copies samples order[start..end) of `split` into fresh contiguous arrays; with
 * `augmentSeed`, image inputs that ask for it are augmented (training batches).
 */
export function gatherBatch(split: Split, order: ArrayLike<number>, start: number, end: number, augmentSeed?: number): Batch {
  const n = end - start;
  const inputs = split.inputs.map(({ shape, values, augment }) => {
    const size = sampleSize(shape);
    const out = new Float32Array(n * size);
    for (let i = 0; i < n; i++) {
      const row = order[start + i];
      if (size === 1) out[i] = values[row];
      else out.set(values.subarray(row * size, (row + 1) * size), i * size);
      if (augment && augmentSeed !== undefined) augmentImage(out.subarray(i * size, (i + 1) * size), shape, augment, augmentSeed, row);
    }
    return out;
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

/** Per model input: the values of `n` samples (per data input: n * size values), packed as modelInputGroups says. */
export function packModelInputs(inputs: { shape: number[]; packed: boolean }[], arrays: Float32Array[], n: number): { values: Float32Array; shape: number[] }[] {
  return modelInputGroups(inputs).map((group) => {
    if (group.length === 1) return { values: arrays[group[0]], shape: inputs[group[0]].shape };
    const sizes = group.map((i) => sampleSize(inputs[i].shape));
    const width = sizes.reduce((a, b) => a + b, 0);
    const out = new Float32Array(n * width);
    let offset = 0;
    group.forEach((i, k) => {
      const size = sizes[k];
      const values = arrays[i];
      for (let r = 0; r < n; r++) for (let j = 0; j < size; j++) out[r * width + offset + j] = values[r * size + j];
      offset += size;
    });
    return { values: out, shape: [width] };
  });
}
