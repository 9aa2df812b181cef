/**
 * MtlRepeat: broadcasts x over one contiguous block of its size-1 axes, i.e.
 * x viewed as [outer, 1, inner] -> [outer, reps, inner], by doubling copies
 * (copyWithin) instead of elementwise work. Mean's and Sum's gradients use it in
 * place of multiplying by a freshly made tensor of ones.
 */

export const REPEAT = 'MtlRepeat';

/** [outer, reps, inner] when `shape` is x's shape with one contiguous block of 1-axes expanded, else null. */
export function repeatGeometry(xShape: number[], shape: number[]): [number, number, number] | null {
  if (xShape.length !== shape.length) return null;
  let first = -1;
  let last = -1;
  for (let i = 0; i < shape.length; i++) {
    if (xShape[i] === shape[i]) continue;
    if (xShape[i] !== 1) return null;
    if (first === -1) first = i;
    else if (last !== i - 1) return null;
    last = i;
  }
  if (first === -1) return null;
  const prod = (a: number[]) => a.reduce((p, q) => p * q, 1);
  return [prod(shape.slice(0, first)), prod(shape.slice(first, last + 1)), prod(shape.slice(last + 1))];
}

/** Writes the repeated x into `out` (both views of their own data). */
export function repeatInto(x: Float32Array, out: Float32Array, [outer, reps, inner]: [number, number, number]): void {
  const block = reps * inner;
  for (let o = 0; o < outer; o++) {
    const base = o * block;
    out.set(x.subarray(o * inner, (o + 1) * inner), base);
    for (let filled = inner; filled < block;) {
      const n = Math.min(filled, block - filled);
      out.copyWithin(base + filled, base, base + n);
      filled += n;
    }
  }
}
