/**
 * MultiFashion (Lin et al. 2019, "Pareto Multi-Task Learning", after the MultiMNIST of
 * Sabour et al. 2017 and Sener and Koltun 2018): two Fashion-MNIST items of different
 * classes on one 36x36 canvas, one towards the top left and one towards the bottom right,
 * each shifted by up to `shift` pixels, overlapping pixels taking the max, the canvas then
 * resized to 28x28 by area averaging. The two tasks are the classes of the two items.
 * Used by scripts/make-multifashion.ts; everything random comes from one seeded Rng.
 */
import { Rng } from './rng';

export const MULTIFASHION_SPLITS = ['train', 'val', 'test'] as const;
export type MultiFashionSplit = (typeof MULTIFASHION_SPLITS)[number];

export interface MultiFashionOptions {
  seed: number;
  /** Composite images per split. */
  counts: Record<MultiFashionSplit, number>;
  /** Fractions of each class's source items reserved for each split (no item is used by two splits). */
  itemFractions?: Record<MultiFashionSplit, number>;
  /** Canvas side (36), largest shift (4) and output side (28). */
  canvas?: number;
  shift?: number;
  size?: number;
}

export interface MultiFashionPart {
  /** count x size x size bytes, row-major. */
  pixels: Uint8Array;
  /** Class of the top-left and of the bottom-right item. */
  left: number[];
  right: number[];
  /** Index of each item in the source images. */
  leftItem: number[];
  rightItem: number[];
  /** Shifts [leftRow, leftCol, rightRow, rightCol] in canvas pixels, towards the centre. */
  shifts: [number, number, number, number][];
}

/**
 * Builds the three splits from source images (n x side x side bytes, side <= canvas) and
 * their labels. Each class's items are shuffled and divided among the splits by
 * `itemFractions` (default 0.7 / 0.15 / 0.15), so a test image never shows an item seen in
 * training. Within a split the left items are its pool in a shuffled order (cycled when the
 * split asks for more images than the pool has), the right item is drawn uniformly from the
 * pool until its class differs from the left one's, then four shifts are drawn in 0..shift.
 */
export function buildMultiFashion(
  images: Uint8Array,
  labels: ArrayLike<number>,
  side: number,
  options: MultiFashionOptions,
): Record<MultiFashionSplit, MultiFashionPart> {
  const canvas = options.canvas ?? 36;
  const shift = options.shift ?? 4;
  const size = options.size ?? 28;
  const fractions = options.itemFractions ?? { train: 0.7, val: 0.15, test: 0.15 };
  if (side + 2 * shift > canvas) throw new Error(`${side}x${side} items shifted by up to ${shift} pixels do not fit a ${canvas}x${canvas} canvas`);
  const rng = new Rng(options.seed);

  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byClass.get(labels[i]) ?? [];
    list.push(i);
    byClass.set(labels[i], list);
  }
  const pools: Record<MultiFashionSplit, number[]> = { train: [], val: [], test: [] };
  for (const cls of [...byClass.keys()].sort((a, b) => a - b)) {
    const items = rng.shuffle(byClass.get(cls)!);
    const nTrain = Math.round(items.length * fractions.train);
    const nVal = Math.round(items.length * fractions.val);
    pools.train.push(...items.slice(0, nTrain));
    pools.val.push(...items.slice(nTrain, nTrain + nVal));
    pools.test.push(...items.slice(nTrain + nVal));
  }

  const itemSize = side * side;
  const out = {} as Record<MultiFashionSplit, MultiFashionPart>;
  for (const split of MULTIFASHION_SPLITS) {
    const count = options.counts[split];
    const pool = rng.shuffle([...pools[split]]);
    if (count > 0 && new Set(pool.map((i) => labels[i])).size < 2) {
      throw new Error(`the ${split} split's items hold fewer than two classes; give more source images`);
    }
    const part: MultiFashionPart = { pixels: new Uint8Array(count * size * size), left: [], right: [], leftItem: [], rightItem: [], shifts: [] };
    for (let k = 0; k < count; k++) {
      const a = pool[k % pool.length];
      let b = pool[rng.int(pool.length)];
      while (labels[b] === labels[a]) b = pool[rng.int(pool.length)];
      const shifts: [number, number, number, number] = [rng.int(shift + 1), rng.int(shift + 1), rng.int(shift + 1), rng.int(shift + 1)];
      const composite = composeCanvas(
        images.subarray(a * itemSize, (a + 1) * itemSize),
        images.subarray(b * itemSize, (b + 1) * itemSize),
        side,
        canvas,
        shifts,
      );
      part.pixels.set(areaResize(composite, canvas, canvas, size, size), k * size * size);
      part.left.push(labels[a]);
      part.right.push(labels[b]);
      part.leftItem.push(a);
      part.rightItem.push(b);
      part.shifts.push(shifts);
    }
    out[split] = part;
  }
  return out;
}

/**
 * The canvas (canvas x canvas bytes): `left` with its top-left corner at (s0, s1), `right`
 * with its bottom-right corner at (canvas - s2, canvas - s3), the max where they overlap.
 */
export function composeCanvas(left: Uint8Array, right: Uint8Array, side: number, canvas: number, shifts: [number, number, number, number]): Uint8Array {
  const out = new Uint8Array(canvas * canvas);
  const place = (item: Uint8Array, top: number, leftCol: number) => {
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const p = (top + y) * canvas + leftCol + x;
        const v = item[y * side + x];
        if (v > out[p]) out[p] = v;
      }
    }
  };
  place(left, shifts[0], shifts[1]);
  place(right, canvas - side - shifts[2], canvas - side - shifts[3]);
  return out;
}

/**
 * Area (box-filter) resampling of h x w bytes to oh x ow: each output pixel is the mean of
 * the source area it covers, partly covered source pixels weighted by the covered fraction
 * (as OpenCV's INTER_AREA and PIL's BOX filter), rounded to the nearest byte.
 */
export function areaResize(src: Uint8Array, h: number, w: number, oh: number, ow: number): Uint8Array {
  const rows = boxWeights(h, oh);
  const cols = boxWeights(w, ow);
  const tmp = new Float64Array(h * ow);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (const [i, wt] of cols[x]) s += src[y * w + i] * wt;
      tmp[y * ow + x] = s;
    }
  }
  const out = new Uint8Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (const [i, wt] of rows[y]) s += tmp[i * ow + x] * wt;
      out[y * ow + x] = Math.min(255, Math.round(s));
    }
  }
  return out;
}

/** For each of n output cells, the source cells of [0, m) it overlaps and their weights (summing to 1). */
function boxWeights(m: number, n: number): [number, number][][] {
  const scale = m / n;
  return Array.from({ length: n }, (_, j) => {
    const lo = j * scale;
    const hi = (j + 1) * scale;
    const taps: [number, number][] = [];
    for (let i = Math.floor(lo); i < Math.min(m, Math.ceil(hi)); i++) {
      const overlap = Math.min(hi, i + 1) - Math.max(lo, i);
      if (overlap > 1e-12) taps.push([i, overlap / scale]);
    }
    return taps;
  });
}
