/**
 * Replaces the registered FusedBatchNorm gradient (the op behind tf.batchNorm and
 * tfjs-layers' BatchNormalization) with one that runs the single-kernel
 * MtlFusedBatchNormGrad where the active backend has it, instead of the stock
 * chain of tile/mul/sum ops. Elsewhere it defers to the stock gradient.
 */
import { engine, FusedBatchNorm, GradConfig, NamedAttrMap, reshape, Tensor, util } from '@tensorflow/tfjs-core';
import { BATCH_NORM_GRAD } from './batch-norm-grad-math';
import { backendHas, replaceGradient, stockGradient } from './gradients';
import { isChannelVector } from './patterns';

const fusedBatchNormGrad: GradConfig = {
  kernelName: FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, mean, variance, scale] = saved as [Tensor, Tensor, Tensor, Tensor | undefined];
    const channels = x.shape[x.shape.length - 1];
    const usable = backendHas(BATCH_NORM_GRAD) && x.dtype === 'float32' &&
      [mean, variance, scale].every((t) => isChannelVector(t, channels));
    if (!usable) return stockGradient(FusedBatchNorm).gradFunc(dy, saved, attrs);
    const inputs = scale == null ? { x, dy, mean, variance } : { x, dy, mean, variance, scale };
    const [dx, dmean, dvariance, dscale, doffset] = engine().runKernel(
      BATCH_NORM_GRAD, inputs as unknown as Record<string, Tensor>, { varianceEpsilon: attrs.varianceEpsilon }) as Tensor[];
    const like = (t: Tensor) => () => (util.arraysEqual(t.shape, mean.shape) ? t : reshape(t, mean.shape));
    return {
      x: () => dx,
      mean: like(dmean),
      variance: like(dvariance),
      scale: like(dscale),
      offset: like(doffset),
    };
  },
};

/** Installs the override (idempotent). */
export function registerBatchNormGradient(): void {
  replaceGradient(fusedBatchNormGrad);
}
