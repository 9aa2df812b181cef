/**
 * Replaces the registered FusedBatchNorm gradient (the op behind tf.batchNorm and
 * tfjs-layers' BatchNormalization) with one that runs the single-kernel
 * MtlFusedBatchNormGrad where the active backend has it, instead of the stock
 * chain of tile/mul/sum ops. Elsewhere it defers to the stock gradient.
 */
// tfjs-layers registers every stock gradient when it loads; load it first so that
// it can never overwrite this override afterwards.
import '@tensorflow/tfjs-layers';
import {
  engine, FusedBatchNorm, getBackend, getGradient, getKernel, GradConfig, NamedAttrMap, registerGradient, reshape,
  Tensor, util,
} from '@tensorflow/tfjs-core';
import { BATCH_NORM_GRAD } from './batch-norm-grad-math';

let stock: GradConfig | undefined;

/** True when a parameter tensor holds one value per channel along x's last axis. */
function perChannel(t: Tensor | undefined, channels: number): boolean {
  if (t === undefined || t === null) return true;
  return t.size === channels && t.shape.slice(0, -1).every((d) => d === 1);
}

const fusedBatchNormGrad: GradConfig = {
  kernelName: FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, mean, variance, scale] = saved as [Tensor, Tensor, Tensor, Tensor | undefined];
    const channels = x.shape[x.shape.length - 1];
    const usable = getKernel(BATCH_NORM_GRAD, getBackend()) !== undefined && x.dtype === 'float32' &&
      [mean, variance, scale].every((t) => perChannel(t, channels));
    if (!usable) {
      if (stock === undefined) throw new Error('no stock FusedBatchNorm gradient registered');
      return stock.gradFunc(dy, saved, attrs);
    }
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
  const current = getGradient(FusedBatchNorm);
  if (current === fusedBatchNormGrad) return;
  stock = current;
  registerGradient(fusedBatchNormGrad);
}
