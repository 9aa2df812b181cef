/** UnsortedSegmentSum on the cpu backend in one pass (see ../segment-sum). */
import { KernelConfig, KernelFunc, TensorInfo, UnsortedSegmentSum, util, type UnsortedSegmentSumAttrs } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { segmentGeometry, segmentSumInto } from '../segment-sum';

const unsortedSegmentSum: KernelFunc = ({ inputs, attrs, backend }) => {
  const cpu = backend as MathBackendCPU;
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
  const g = segmentGeometry(x.shape, segmentIds.shape);
  const shape = g.outShape(numSegments);
  const out = x.dtype === 'int32' ? new Int32Array(util.sizeFromShape(shape)) : new Float32Array(util.sizeFromShape(shape));
  segmentSumInto(cpu.data.get(x.dataId).values as Float32Array, cpu.data.get(segmentIds.dataId).values as Int32Array, g.rows, g.inner, numSegments, out);
  return cpu.makeTensorInfo(shape, x.dtype, out);
};

export const unsortedSegmentSumConfig: KernelConfig = { kernelName: UnsortedSegmentSum, backendName: 'cpu', kernelFunc: unsortedSegmentSum };
