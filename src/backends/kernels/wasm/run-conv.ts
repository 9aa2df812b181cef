/**
 * Runs a DirectConvSpec on the wasm heap with the generated kernels: Winograd
 * where it applies (stride 1; F(4x4,3x3) or F(2x2,3x3) for a 3x3 kernel, F(1x4,1x3) or
 * F(1x2,1x3) for a 1x3 one, and their transposes for 3x1), the SIMD direct convolution
 * otherwise.
 */
import { TensorInfo } from '@tensorflow/tfjs-core';
import { DirectConvSpec } from '../conv-plans';
import { allocF32, BackendWasm, heapPtr, heapSlack, release, wasmMemory } from './backend';
import { evenShares, KernelCall, runParts, threadsOf } from './kernel-pool';
import { scaledSumModule } from './simd/scaled-sum';
import { directConvModule } from './simd/direct-conv';
import {
  tileName, tilePlanes, winogradModule, winogradScratch, winogradTaps, winogradTile, winogradWeightsModule,
} from './simd/winograd';

export interface ConvOperands {
  /** Zero-padded input as the spec describes it. */
  input: TensorInfo;
  weights: TensorInfo;
  /** Offset (floats) of the spec's first weight in `weights`. */
  weightOffset: number;
  bias?: TensorInfo;
  out: TensorInfo;
  /** Offset (floats) of the spec's first output pixel in `out`. */
  outOffset: number;
}

export function runConv(wasm: BackendWasm, spec: DirectConvSpec, o: ConvOperands): void {
  const memory = wasmMemory(wasm);
  const biasPtr = o.bias === undefined ? 0 : heapPtr(wasm, o.bias);
  const shares = evenShares(spec.batch, threadsOf(memory));
  const inImage = 4 * spec.inHeight * spec.inWidth * spec.inChannels;
  const outImage = 4 * spec.outImageStride;
  const inPtr = heapPtr(wasm, o.input);
  const outPtr = heapPtr(wasm, o.out) + 4 * o.outOffset;
  const grid = winogradTaps(spec);
  const tile = winogradTile(spec);
  if (grid !== null && tile !== null) {
    const u = allocF32(wasm, [tilePlanes(tile), spec.inChannels, spec.outChannels]);
    const K = spec.inChannels;
    const M = spec.outChannels;
    const wPtr = heapPtr(wasm, o.weights) + 4 * o.weightOffset;
    runParts(memory, evenShares(K, threadsOf(memory)).map((rows): KernelCall[] => [{
      key: `winograd-wt:${tileName(tile)}:${K}:${M}:${grid.join(',')}:${rows.count}`,
      generate: () => winogradWeightsModule(K, M, grid, tile, rows.count),
      fn: 'wt',
      args: [wPtr + 4 * M * rows.start, heapPtr(wasm, u) + 4 * M * rows.start],
    }]));
    const scratches: TensorInfo[] = [];
    const parts = shares.map((share): KernelCall[] => {
      const part = { ...spec, batch: share.count };
      const scratch = allocF32(wasm, [winogradScratch(part, tile)]);
      scratches.push(scratch);
      return [{
        key: `winograd:${tileName(tile)}:${JSON.stringify(part)}`,
        generate: () => winogradModule(part, tile),
        fn: 'wino',
        args: [inPtr + inImage * share.start, heapPtr(wasm, u), biasPtr, outPtr + outImage * share.start, heapPtr(wasm, scratch)],
      }];
    });
    runParts(memory, parts);
    release(wasm, u, ...scratches);
    return;
  }
  // A masked tail reads and writes back past a share's last pixel, where the next share writes.
  const maskedTail = shares.length === 1 && heapSlack(wasm, o.out, o.weights, ...(o.bias === undefined ? [] : [o.bias]));
  const parts = shares.map((share): KernelCall[] => {
    const part = { ...spec, batch: share.count, maskedTail };
    return [{
      key: `conv:${JSON.stringify(part)}`,
      generate: () => directConvModule(part),
      fn: 'conv',
      args: [inPtr + inImage * share.start, heapPtr(wasm, o.weights) + 4 * o.weightOffset, biasPtr, outPtr + outImage * share.start],
    }];
  });
  runParts(memory, parts);
}

/**
 * The sum of same-shaped partial results (one per share of a batch) in the first of
 * them, the others released; the additions split over the kernel threads by range.
 */
export function sumPartials(wasm: BackendWasm, partials: TensorInfo[]): TensorInfo {
  const [sum, ...rest] = partials;
  if (rest.length === 0) return sum;
  const memory = wasmMemory(wasm);
  const n = sum.shape.reduce((a, b) => a * b, 1);
  const ranges = evenShares(Math.ceil(n / 4), threadsOf(memory)).map((r) => ({ start: 4 * r.start, count: Math.min(n, 4 * (r.start + r.count)) - 4 * r.start }));
  runParts(memory, ranges.map((r): KernelCall[] => rest.map((partial) => ({
    key: 'scaled-sum',
    generate: scaledSumModule,
    fn: 'addScaled',
    args: [heapPtr(wasm, sum) + 4 * r.start, heapPtr(wasm, partial) + 4 * r.start, r.count, 1],
  }))));
  release(wasm, ...rest);
  return sum;
}
