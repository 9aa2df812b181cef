/** The mtl FusedBatchNorm gradient kernel (see ../batch-norm-grad-math) on the cpu backend. */
import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { BATCH_NORM_GRAD, batchNormGrad } from '../batch-norm-grad-math';

const batchNormGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const cpu = backend as MathBackendCPU;
  const { x, dy, mean, variance, scale } = inputs as Record<string, TensorInfo | undefined> as {
    x: TensorInfo; dy: TensorInfo; mean: TensorInfo; variance: TensorInfo; scale?: TensorInfo;
  };
  const read = (t: TensorInfo): Float32Array => cpu.data.get(t.dataId).values as Float32Array;
  const c = x.shape[x.shape.length - 1];
  const dx = new Float32Array(read(x).length);
  const [dmean, dvariance, dscale, doffset] = [0, 1, 2, 3].map(() => new Float32Array(c));
  batchNormGrad({
    x: read(x),
    dy: read(dy),
    mean: read(mean),
    variance: read(variance),
    scale: scale === undefined ? null : read(scale),
    varianceEpsilon: attrs?.varianceEpsilon as number,
    dx, dmean, dvariance, dscale, doffset,
  });
  return [
    cpu.makeTensorInfo(x.shape, 'float32', dx),
    ...[dmean, dvariance, dscale, doffset].map((v) => cpu.makeTensorInfo([c], 'float32', v)),
  ];
};

export const batchNormGradConfig: KernelConfig = {
  kernelName: BATCH_NORM_GRAD,
  backendName: 'cpu',
  kernelFunc: batchNormGradKernel,
};
