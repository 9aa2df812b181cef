/**
 * Runs a DirectConvSpec on the wasm heap with the generated kernels: Winograd
 * F(4x4,3x3) or F(2x2,3x3) where it applies (stride-1 3x3), the SIMD direct convolution
 * otherwise.
 */
import { TensorInfo } from '@tensorflow/tfjs-core';
import { DirectConvSpec } from '../conv-plans';
import { allocF32, BackendWasm, heapPtr, heapSlack, release, wasmMemory } from './backend';
import { kernelModule } from './simd/cache';
import { directConvModule } from './simd/direct-conv';
import { winogradModule, winogradScratch, winogradTaps, winogradTile, winogradWeightsModule } from './simd/winograd';

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
  const grid = winogradTaps(spec);
  if (grid !== null) {
    const tile = winogradTile(spec);
    const u = allocF32(wasm, [(tile.m + 2) ** 2, spec.inChannels, spec.outChannels]);
    const scratch = allocF32(wasm, [winogradScratch(spec, tile)]);
    const K = spec.inChannels;
    const M = spec.outChannels;
    kernelModule(memory, `winograd-wt:${tile.m}:${K}:${M}:${grid.join(',')}`, () => winogradWeightsModule(K, M, grid, tile))
      .wt(heapPtr(wasm, o.weights) + 4 * o.weightOffset, heapPtr(wasm, u));
    const kernel = kernelModule(memory, `winograd:${tile.m}:${JSON.stringify(spec)}`, () => winogradModule(spec, tile));
    kernel.wino(heapPtr(wasm, o.input), heapPtr(wasm, u), biasPtr, heapPtr(wasm, o.out) + 4 * o.outOffset, heapPtr(wasm, scratch));
    release(wasm, u, scratch);
    return;
  }
  const masked = { ...spec, maskedTail: heapSlack(wasm, o.out, o.weights, ...(o.bias === undefined ? [] : [o.bias])) };
  const kernel = kernelModule(memory, `conv:${JSON.stringify(masked)}`, () => directConvModule(masked));
  kernel.conv(heapPtr(wasm, o.input), heapPtr(wasm, o.weights) + 4 * o.weightOffset, biasPtr, heapPtr(wasm, o.out) + 4 * o.outOffset);
}
