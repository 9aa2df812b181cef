/**
 * The mtl FusedBatchNorm gradient kernel (see ../batch-norm-grad-math) on the
 * wasm heap: one SIMD pass for the per-channel sums, one for dx.
 */
import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { BATCH_NORM_GRAD } from '../batch-norm-grad-math';
import { allocF32, asWasm, heapF32, heapPtr, release } from './backend';
import { batchNormSums, channelOps, heapVector } from './channel-ops';

const batchNormGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { x, dy, mean, variance, scale } = inputs as Record<string, TensorInfo | undefined> as {
    x: TensorInfo; dy: TensorInfo; mean: TensorInfo; variance: TensorInfo; scale?: TensorInfo;
  };
  const eps = attrs?.varianceEpsilon as number;
  const c = x.shape[x.shape.length - 1];
  const [sumDy, sumDyXc] = batchNormSums(wasm, x, dy, mean);
  const v = heapF32(wasm, variance);
  const s = scale === undefined ? null : heapF32(wasm, scale);
  const gainValues = new Float32Array(c);
  const dmean = new Float32Array(c);
  const dvariance = new Float32Array(c);
  const dscale = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    const rstd = 1 / Math.sqrt(v[k] + eps);
    const sk = s === null ? 1 : s[k];
    gainValues[k] = sk * rstd;
    dmean[k] = -sk * rstd * sumDy[k];
    dvariance[k] = -0.5 * sk * rstd * rstd * rstd * sumDyXc[k];
    dscale[k] = rstd * sumDyXc[k];
  }
  const gain = heapVector(wasm, gainValues);
  const dx = allocF32(wasm, x.shape);
  channelOps(wasm, c).mulVec(heapPtr(wasm, dy), heapPtr(wasm, gain), dy.shape.reduce((a, b) => a * b, 1) / c, heapPtr(wasm, dx));
  release(wasm, gain);
  return [dx, ...[dmean, dvariance, dscale, Float32Array.from(sumDy)].map((values) => heapVector(wasm, values))];
};

export const batchNormGradConfig: KernelConfig = {
  kernelName: BATCH_NORM_GRAD,
  backendName: 'wasm',
  kernelFunc: batchNormGradKernel,
};
