/** UnsortedSegmentSum for the wasm backend, which has none (tfjs issue 8082): see ../segment-sum;
 * SIMD rows (simd/rows.ts) when rows are a multiple of 4 floats. */
import { KernelConfig, KernelFunc, TensorInfo, UnsortedSegmentSum, type UnsortedSegmentSumAttrs } from '@tensorflow/tfjs-core';
import { segmentGeometry, segmentSumInto } from '../segment-sum';
import { asWasm, heapPtr } from './backend';
import { rowKernels } from './simd/rows';

const unsortedSegmentSum: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
  const wasm = asWasm(backend);
  const g = segmentGeometry(x.shape, segmentIds.shape);
  const out = wasm.makeOutput(g.outShape(numSegments), x.dtype);
  if (x.dtype === 'float32' && g.inner % 4 === 0) {
    rowKernels(wasm, g.inner).segmentSum(heapPtr(wasm, x), heapPtr(wasm, segmentIds), heapPtr(wasm, out), g.rows, numSegments);
    return out;
  }
  // Views only after the output is allocated: an allocation may grow (detach) the heap.
  const sums = wasm.typedArrayFromHeap(out) as Float32Array | Int32Array;
  segmentSumInto(wasm.typedArrayFromHeap(x) as Float32Array, wasm.typedArrayFromHeap(segmentIds) as Int32Array, g.rows, g.inner, numSegments, sums);
  return out;
};

export const unsortedSegmentSumConfig: KernelConfig = { kernelName: UnsortedSegmentSum, backendName: 'wasm', kernelFunc: unsortedSegmentSum };
