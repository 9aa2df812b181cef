/** Convolution shapes the gradient kernels are tested on (NHWC x, HWIO filter). */
export interface ConvCase {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: 'same' | 'valid';
}

export const CONV_CASES: ConvCase[] = [
  { x: [1, 7, 5, 3], filter: [3, 3, 3, 5], strides: 1, pad: 'same' },
  { x: [3, 7, 5, 3], filter: [3, 3, 3, 5], strides: 2, pad: 'same' },
  { x: [1, 8, 6, 5], filter: [3, 3, 5, 2], strides: 2, pad: 'valid' },
  { x: [3, 9, 7, 6], filter: [1, 1, 6, 7], strides: 2, pad: 'same' },
  { x: [3, 9, 7, 6], filter: [1, 1, 6, 7], strides: 1, pad: 'valid' },
  { x: [3, 8, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'valid' },
  { x: [3, 6, 10, 9], filter: [3, 3, 9, 6], strides: 1, pad: 'valid' },
  { x: [1, 5, 4, 4], filter: [3, 3, 4, 8], strides: 1, pad: 'same' },
  { x: [3, 11, 9, 16], filter: [3, 3, 16, 12], strides: 2, pad: 'same' },
  { x: [3, 9, 8, 5], filter: [5, 5, 5, 9], strides: 2, pad: 'same' },
  { x: [1, 7, 9, 6], filter: [3, 1, 6, 13], strides: [2, 1], pad: 'same' },
  // stride-1 3x3 with even outputs and channels in fours: Winograd on wasm
  { x: [3, 8, 6, 8], filter: [3, 3, 8, 12], strides: 1, pad: 'same' },
  { x: [1, 10, 8, 12], filter: [3, 3, 12, 8], strides: 1, pad: 'valid' },
  // outputs in multiples of 4, at least 8: F(4x4, 3x3)
  { x: [2, 8, 12, 8], filter: [3, 3, 8, 12], strides: 1, pad: 'same' },
];

export function describeCase(c: ConvCase): string {
  return `x ${c.x.join('x')} filter ${c.filter.join('x')} stride ${String(c.strides)} ${c.pad}`;
}

/** Output shape of the forward convolution. */
export function outShape(c: ConvCase): [number, number, number, number] {
  const [sh, sw] = typeof c.strides === 'number' ? [c.strides, c.strides] : c.strides;
  const [n, h, w] = c.x;
  const [kh, kw, , co] = c.filter;
  const o = (size: number, k: number, s: number) => (c.pad === 'same' ? Math.ceil(size / s) : Math.ceil((size - k + 1) / s));
  return [n, o(h, kh, sh), o(w, kw, sw), co];
}
