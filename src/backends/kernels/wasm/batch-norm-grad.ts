/** The mtl FusedBatchNorm gradient kernel (see ../batch-norm-grad-math) on the wasm heap. */
import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { BATCH_NORM_GRAD, batchNormGrad } from '../batch-norm-grad-math';
import { allocF32, asWasm, heapF32 } from './backend';

const batchNormGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { x, dy, mean, variance, scale } = inputs as Record<string, TensorInfo | undefined> as {
    x: TensorInfo; dy: TensorInfo; mean: TensorInfo; variance: TensorInfo; scale?: TensorInfo;
  };
  const c = x.shape[x.shape.length - 1];
  const outs = [allocF32(wasm, x.shape), ...[0, 1, 2, 3].map(() => allocF32(wasm, [c]))];
  const [dx, dmean, dvariance, dscale, doffset] = outs.map((t) => heapF32(wasm, t));
  batchNormGrad({
    x: heapF32(wasm, x),
    dy: heapF32(wasm, dy),
    mean: heapF32(wasm, mean),
    variance: heapF32(wasm, variance),
    scale: scale === undefined ? null : heapF32(wasm, scale),
    varianceEpsilon: attrs?.varianceEpsilon as number,
    dx, dmean, dvariance, dscale, doffset,
  });
  return outs;
};

export const batchNormGradConfig: KernelConfig = {
  kernelName: BATCH_NORM_GRAD,
  backendName: 'wasm',
  kernelFunc: batchNormGradKernel,
};
