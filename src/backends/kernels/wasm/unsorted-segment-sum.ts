/**
 * UnsortedSegmentSum for the wasm backend, which has none (tfjs issue 8082): the
 * gradient of Gather, so of every embedding. out[s] = Σ_{i: ids[i] = s} x[i]; ids
 * outside [0, numSegments) are dropped, as in TensorFlow. A loop on the heap: the
 * scatter is memory-bound, one pass over x.
 */
import { KernelConfig, KernelFunc, TensorInfo, UnsortedSegmentSum, type UnsortedSegmentSumAttrs } from '@tensorflow/tfjs-core';
import { asWasm } from './backend';

const unsortedSegmentSum: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
  const wasm = asWasm(backend);
  const n = segmentIds.shape.reduce((a, b) => a * b, 1);
  const total = x.shape.reduce((a, b) => a * b, 1);
  const inner = n > 0 ? total / n : 0;
  const out = wasm.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
  // Views only after the output is allocated: an allocation may grow (detach) the heap.
  const values = wasm.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const ids = wasm.typedArrayFromHeap(segmentIds) as Int32Array | Float32Array;
  const sums = wasm.typedArrayFromHeap(out) as Float32Array | Int32Array;
  sums.fill(0);
  for (let i = 0; i < n; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const o = s * inner;
    const p = i * inner;
    for (let j = 0; j < inner; j++) sums[o + j] += values[p + j];
  }
  return out;
};

export const unsortedSegmentSumConfig: KernelConfig = { kernelName: UnsortedSegmentSum, backendName: 'wasm', kernelFunc: unsortedSegmentSum };
