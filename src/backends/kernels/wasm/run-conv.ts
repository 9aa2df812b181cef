/**
 * Runs a DirectConvSpec on the wasm heap with the generated kernels: Winograd
 * where it applies (stride 1; F(4x4,3x3) or F(2x2,3x3) for a 3x3 kernel, F(1x4,1x3) or
 * F(1x2,1x3) for a 1x3 one, and their transposes for 3x1), the SIMD direct convolution
 * otherwise.
 */
import { TensorInfo } from '@tensorflow/tfjs-core';
import { DirectConvSpec } from '../conv-plans';
import { allocF32, BackendWasm, heapPtr, heapSlack, release, wasmMemory } from './backend';
import { kernelModule } from './simd/cache';
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
  const grid = winogradTaps(spec);
  const tile = winogradTile(spec);
  if (grid !== null && tile !== null) {
    const u = allocF32(wasm, [tilePlanes(tile), spec.inChannels, spec.outChannels]);
    const scratch = allocF32(wasm, [winogradScratch(spec, tile)]);
    const K = spec.inChannels;
    const M = spec.outChannels;
    kernelModule(memory, `winograd-wt:${tileName(tile)}:${K}:${M}:${grid.join(',')}`, () => winogradWeightsModule(K, M, grid, tile))
      .wt(heapPtr(wasm, o.weights) + 4 * o.weightOffset, heapPtr(wasm, u));
    const kernel = kernelModule(memory, `winograd:${tileName(tile)}:${JSON.stringify(spec)}`, () => winogradModule(spec, tile));
    kernel.wino(heapPtr(wasm, o.input), heapPtr(wasm, u), biasPtr, heapPtr(wasm, o.out) + 4 * o.outOffset, heapPtr(wasm, scratch));
    release(wasm, u, scratch);
    return;
  }
  const masked = { ...spec, maskedTail: heapSlack(wasm, o.out, o.weights, ...(o.bias === undefined ? [] : [o.bias])) };
  const kernel = kernelModule(memory, `conv:${JSON.stringify(masked)}`, () => directConvModule(masked));
  kernel.conv(heapPtr(wasm, o.input), heapPtr(wasm, o.weights) + 4 * o.weightOffset, biasPtr, heapPtr(wasm, o.out) + 4 * o.outOffset);
}
