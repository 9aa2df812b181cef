import * as tf from '@tensorflow/tfjs-core';
import { randomTensor } from './helpers';

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

/**
 * Stride-1 1x3 (conv1d, as tfjs runs it: [N,1,W,C] with a [1,3,Ci,Co] filter) and 3x1
 * kernels, with the Winograd tile wasm picks for the forward pass, the input gradient
 * and the filter gradient (null: the direct kernel). Outputs wider than 16, so that the
 * gathered kernels (wasm/gather-conv.ts) do not take them.
 */
export const WINOGRAD_1D_CASES: (ConvCase & { forwardTile: string | null; inputTile: string | null; filterTile: string | null })[] = [
  // text-cnn's layer (batch 2 instead of 64)
  { x: [2, 1, 128, 64], filter: [1, 3, 64, 64], strides: 1, pad: 'same', forwardTile: 'F(1x4,1x3)', inputTile: 'F(1x4,1x3)', filterTile: 'F(1x4,1x3)' },
  // width 18: not a multiple of 4
  { x: [3, 1, 18, 8], filter: [1, 3, 8, 12], strides: 1, pad: 'same', forwardTile: 'F(1x2,1x3)', inputTile: 'F(1x2,1x3)', filterTile: 'F(1x2,1x3)' },
  // odd width: neither tile fits
  { x: [2, 1, 17, 8], filter: [1, 3, 8, 8], strides: 1, pad: 'same', forwardTile: null, inputTile: null, filterTile: null },
  // valid: output width 18 (F2), the input gradient's 20 (F4)
  { x: [2, 1, 20, 16], filter: [1, 3, 16, 8], strides: 1, pad: 'valid', forwardTile: 'F(1x2,1x3)', inputTile: 'F(1x4,1x3)', filterTile: 'F(1x2,1x3)' },
  // several rows per image, each its own tile row
  { x: [2, 3, 8, 12], filter: [1, 3, 12, 32], strides: 1, pad: 'same', forwardTile: 'F(1x4,1x3)', inputTile: 'F(1x4,1x3)', filterTile: 'F(1x4,1x3)' },
  // 3x1: the transposed tile
  { x: [2, 12, 3, 8], filter: [3, 1, 8, 16], strides: 1, pad: 'same', forwardTile: 'F(4x1,3x1)', inputTile: 'F(4x1,3x1)', filterTile: 'F(4x1,3x1)' },
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

/** What `convKernelOutputs` returns, in order. */
export const CONV_OUTPUT_NAMES = ['conv2d', 'conv2d + bias', 'conv2d + bias + relu', 'filter gradient', 'input gradient'];

/** The forward kernels (plain, biased, biased with relu) and both gradients on case `c` with seeded operands (k picks the seeds). */
export function convKernelOutputs(c: ConvCase, k: number): tf.Tensor[] {
  const x = randomTensor(c.x, 10 + k) as tf.Tensor4D;
  const w = randomTensor(c.filter, 20 + k) as tf.Tensor4D;
  const dy = randomTensor(outShape(c), 30 + k);
  const bias = randomTensor([c.filter[3]], 40 + k);
  const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC' };
  return [
    tf.conv2d(x, w, c.strides, c.pad),
    tf.fused.conv2d({ x, filter: w, strides: c.strides, pad: c.pad, bias }),
    tf.fused.conv2d({ x, filter: w, strides: c.strides, pad: c.pad, bias, activation: 'relu' }),
    tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: c.filter } as unknown as tf.NamedAttrMap) as tf.Tensor,
    tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor,
  ];
}
