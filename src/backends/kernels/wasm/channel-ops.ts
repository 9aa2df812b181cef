/** Calls into the generated channels-last SIMD kernels (simd/channel-ops). */
import { TensorInfo } from '@tensorflow/tfjs-core';
import { allocF32, BackendWasm, heapF32, heapPtr, release, wasmMemory } from './backend';
import { MIN_SHARE_FLOATS, runSplit } from './kernel-pool';
import { kernelModule } from './simd/cache';
import { blockRows, channelOpsModule } from './simd/channel-ops';
import { assemble, Func } from './simd/emit';

export type ChannelOps = Record<
  | 'mulVec' | 'addVec' | 'subVec' | 'divVec' | 'vecSub' | 'vecDiv' | 'affine' | 'affineRelu' | 'affine2' | 'affine2Relu'
  | 'blockSums' | 'bnBlockSums' | 'bnReluBlockSums',
  (...args: number[]) => void
>;

/** The module of the kernels for `channels` channels: its cache key and generator. */
const channelOpsKernel = (channels: number) => ({ key: `channel-ops:${channels}`, generate: () => channelOpsModule(channels) });

/** The kernels for `channels` channels, compiled on first use. */
export function channelOps(wasm: BackendWasm, channels: number): ChannelOps {
  const { key, generate } = channelOpsKernel(channels);
  return kernelModule(wasmMemory(wasm), key, generate) as ChannelOps;
}

/**
 * `op` of the channel kernels over `rows` rows of `channels`, split by whole blocks of
 * `unit` rows over the kernel threads: `args(firstRow, rowCount)` gives each call's
 * arguments. Each row (or block) is computed as one call would, so the values are too.
 */
export function channelOpsByRows(
  wasm: BackendWasm, channels: number, op: keyof ChannelOps, rows: number, unit: number, args: (first: number, count: number) => number[],
): void {
  const units = Math.ceil(rows / unit);
  runSplit(wasmMemory(wasm), units, Math.max(1, Math.ceil(MIN_SHARE_FLOATS / (unit * channels))), (start, count) => {
    const first = start * unit;
    return {
      ...channelOpsKernel(channels),
      fn: op,
      args: args(first, Math.min(rows, (start + count) * unit) - first),
    };
  });
}

/**
 * `addBlocks(src, blocks, count, stride, out)`: out[j] += f64(src[b*stride + j]) for each
 * block b in turn, j < count (byte addresses; out f64). Block after block, as a JS loop
 * would, so each sum is the same double.
 */
function blockAddModule(): Uint8Array {
  const f = new Func('addBlocks', ['i32', 'i32', 'i32', 'i32', 'i32']);
  const [src, blocks, count, stride, out] = f.params;
  const b = f.local('i32');
  const j = f.local('i32');
  const row = f.local('i32');
  f.get(src).set(row);
  f.forCount(b, () => f.get(blocks), () => {
    f.forCount(j, () => f.get(count), () => {
      f.get(out).get(j).i32(8).mul().add();
      f.get(out).get(j).i32(8).mul().add().f64Load();
      f.get(row).get(j).i32(4).mul().add().f32Load().f64PromoteF32().f64Add().f64Store();
    });
    f.get(row).get(stride).i32(4).mul().add().set(row);
  });
  return assemble([f]);
}

/** Adds up per-block f32 partial sums [blocks, width] on the heap into doubles [width], channels split over the kernel threads. */
function addBlocks(wasm: BackendWasm, partials: TensorInfo, width: number): Float64Array {
  const blocks = partials.shape[0];
  const sums = wasm.makeOutput([2 * width], 'float32');
  const out = heapPtr(wasm, sums);
  new Float64Array(wasmMemory(wasm).buffer, out, width).fill(0);
  runSplit(wasmMemory(wasm), width, Math.max(1, Math.ceil(MIN_SHARE_FLOATS / blocks)), (start, count) => ({
    key: 'block-add',
    generate: blockAddModule,
    fn: 'addBlocks',
    args: [heapPtr(wasm, partials) + 4 * start, blocks, count, width, out + 8 * start],
  }));
  const result = new Float64Array(wasmMemory(wasm).buffer, out, width).slice();
  release(wasm, sums);
  return result;
}

/** Per-channel sums of x [.., C] over all leading axes, in double precision. */
export function channelSums(wasm: BackendWasm, x: TensorInfo): Float64Array {
  const c = x.shape[x.shape.length - 1];
  const rows = x.shape.reduce((a, b) => a * b, 1) / c;
  const partials = allocF32(wasm, [Math.max(1, Math.ceil(rows / blockRows(c))), c]);
  const block = blockRows(c);
  channelOpsByRows(wasm, c, 'blockSums', rows, block, (first, count) => [heapPtr(wasm, x) + 4 * first * c, count, heapPtr(wasm, partials) + 4 * (first / block) * c]);
  const sums = addBlocks(wasm, partials, c);
  release(wasm, partials);
  return sums;
}

/** The forward's per-channel y = x·a + b, before the relu it was fused with: the backward multiplies dy by step(y). */
export interface ReluMask {
  a: TensorInfo;
  b: TensorInfo;
}

/** Per channel: [sum dy, sum dy * (x - mean)], in double precision; with `relu`, of dy · step(x·a + b). */
export function batchNormSums(
  wasm: BackendWasm, x: TensorInfo, dy: TensorInfo, mean: TensorInfo, relu?: ReluMask,
): [Float64Array, Float64Array] {
  const c = x.shape[x.shape.length - 1];
  const rows = x.shape.reduce((a, b) => a * b, 1) / c;
  const partials = allocF32(wasm, [Math.max(1, Math.ceil(rows / blockRows(c))), 2 * c]);
  const block = blockRows(c);
  const mask = relu ? [heapPtr(wasm, relu.a), heapPtr(wasm, relu.b)] : [];
  channelOpsByRows(wasm, c, relu ? 'bnReluBlockSums' : 'bnBlockSums', rows, block, (first, count) => [
    heapPtr(wasm, x) + 4 * first * c, heapPtr(wasm, dy) + 4 * first * c, heapPtr(wasm, mean), ...mask, count, heapPtr(wasm, partials) + 4 * (first / block) * 2 * c,
  ]);
  const sums = addBlocks(wasm, partials, 2 * c);
  release(wasm, partials);
  return [sums.subarray(0, c), sums.subarray(c)];
}

/** A float32 [values.length] tensor on the heap holding `values`. */
export function heapVector(wasm: BackendWasm, values: ArrayLike<number>): TensorInfo {
  const t = allocF32(wasm, [values.length]);
  heapF32(wasm, t).set(values);
  return t;
}
