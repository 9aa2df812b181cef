/**
 * The FusedBatchNorm gradient on plain typed arrays, channels last:
 *
 *   y = (x - mean) * rstd * scale + offset,  rstd = 1 / sqrt(variance + eps)
 *
 * gives, with sums over every position of channel c,
 *   dx = dy * scale * rstd            doffset = sum(dy)
 *   dscale = rstd * sum(dy * (x - mean))
 *   dmean = -scale * rstd * sum(dy)   dvariance = -scale * rstd^3 / 2 * sum(dy * (x - mean))
 * (dmean and dvariance then flow back through whatever produced mean and
 * variance, e.g. tf.moments in tfjs-layers' training-mode BatchNormalization).
 */

/** Name of the custom kernel computing all five gradients in two passes. */
export const BATCH_NORM_GRAD = 'MtlFusedBatchNormGrad';

export interface BatchNormGradArrays {
  x: Float32Array;
  dy: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  /** null when the forward op had no scale (scale 1). */
  scale: Float32Array | null;
  varianceEpsilon: number;
  dx: Float32Array;
  dmean: Float32Array;
  dvariance: Float32Array;
  dscale: Float32Array;
  doffset: Float32Array;
}

/** Fills dx, dmean, dvariance, dscale and doffset; parameters have one value per channel. */
export function batchNormGrad(a: BatchNormGradArrays): void {
  const c = a.mean.length;
  const rows = a.x.length / c;
  const { x, dy, dx } = a;
  const mu = Float64Array.from(a.mean);
  const sumDy = new Float64Array(c);
  const sumDyXc = new Float64Array(c);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let k = 0; k < c; k++, i++) {
      const g = dy[i];
      sumDy[k] += g;
      sumDyXc[k] += g * (x[i] - mu[k]);
    }
  }
  const gain = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    const rstd = 1 / Math.sqrt(a.variance[k] + a.varianceEpsilon);
    const s = a.scale === null ? 1 : a.scale[k];
    gain[k] = s * rstd;
    a.doffset[k] = sumDy[k];
    a.dscale[k] = sumDyXc[k] * rstd;
    a.dmean[k] = -gain[k] * sumDy[k];
    a.dvariance[k] = -0.5 * s * rstd * rstd * rstd * sumDyXc[k];
  }
  for (let r = 0, i = 0; r < rows; r++) {
    for (let k = 0; k < c; k++, i++) dx[i] = dy[i] * gain[k];
  }
}
