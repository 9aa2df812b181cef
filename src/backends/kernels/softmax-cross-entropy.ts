/**
 * Softmax cross-entropy from logits and class indices as one kernel each way, where
 * tfjs composes it from about fifteen (oneHot, casts, max, sub, exp, sum, log, ...)
 * forward and ten backward, each a kernel call on a tensor of a few hundred floats:
 *
 *   MtlSoftmaxCrossEntropy      logits [n, C], labels [n] int32 -> losses [n]
 *   MtlSoftmaxCrossEntropyGrad  dy [n], logits, labels -> dlogits [n, C]
 *
 *   q = onehot(label)·(1 − s) + s/C (s: label smoothing; an index outside [0, C) has no one),
 *   loss = logΣexp(z) − Σ_c q_c·z_c,  dlogits = dy·(softmax(z) − q)
 *
 * Plain loops over host memory (the wasm heap or the cpu backend's arrays): the work is
 * a few exponentials per row.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { backendHas } from './gradients';
import { hostArrays } from './host-arrays';

export const SOFTMAX_CROSS_ENTROPY = 'MtlSoftmaxCrossEntropy';
export const SOFTMAX_CROSS_ENTROPY_GRAD = 'MtlSoftmaxCrossEntropyGrad';

interface Attrs {
  smoothing: number;
}

/** logΣexp of row r of z [*, c], shifted by the row's maximum. */
function logSumExp(z: Float32Array, r: number, c: number): number {
  let max = -Infinity;
  for (let j = 0; j < c; j++) max = Math.max(max, z[r * c + j]);
  if (!Number.isFinite(max)) max = 0;
  let sum = 0;
  for (let j = 0; j < c; j++) sum += Math.exp(z[r * c + j] - max);
  return max + Math.log(sum);
}

function kernelsFor(backendName: 'wasm' | 'cpu'): { forward: KernelFunc; grad: KernelFunc } {
  return {
    forward: ({ inputs, backend, attrs }) => {
      const { logits, labels } = inputs as { logits: TensorInfo; labels: TensorInfo };
      const { smoothing } = attrs as unknown as Attrs;
      const [n, c] = logits.shape;
      const arrays = hostArrays(backendName, backend);
      const [out] = arrays.allocate([[n]]);
      const z = arrays.view(logits);
      const y = arrays.values(labels);
      const loss = arrays.view(out);
      for (let r = 0; r < n; r++) {
        const lse = logSumExp(z, r, c);
        let sumZ = 0;
        for (let j = 0; j < c; j++) sumZ += z[r * c + j];
        const label = y[r];
        const hit = label >= 0 && label < c ? z[r * c + label] : 0;
        const q = label >= 0 && label < c ? 1 - smoothing : 0;
        // Σ_c q_c·(lse − z_c) with q = q·onehot + s/C
        loss[r] = q * (lse - hit) + (smoothing / c) * (c * lse - sumZ);
      }
      return out;
    },
    grad: ({ inputs, backend, attrs }) => {
      const { dy, logits, labels } = inputs as { dy: TensorInfo; logits: TensorInfo; labels: TensorInfo };
      const { smoothing } = attrs as unknown as Attrs;
      const [n, c] = logits.shape;
      const arrays = hostArrays(backendName, backend);
      const [out] = arrays.allocate([[n, c]]);
      const z = arrays.view(logits);
      const y = arrays.values(labels);
      const g = arrays.view(dy);
      const dz = arrays.view(out);
      for (let r = 0; r < n; r++) {
        const lse = logSumExp(z, r, c);
        const label = y[r];
        for (let j = 0; j < c; j++) {
          const q = (j === label ? 1 - smoothing : 0) + smoothing / c;
          dz[r * c + j] = g[r] * (Math.exp(z[r * c + j] - lse) - q);
        }
      }
      return out;
    },
  };
}

/** Registers both kernels on a host-memory backend (idempotent). */
export function registerSoftmaxCrossEntropyKernels(backendName: 'wasm' | 'cpu'): void {
  const { forward, grad } = kernelsFor(backendName);
  const configs: KernelConfig[] = [
    { kernelName: SOFTMAX_CROSS_ENTROPY, backendName, kernelFunc: forward },
    { kernelName: SOFTMAX_CROSS_ENTROPY_GRAD, backendName, kernelFunc: grad },
  ];
  for (const config of configs) if (!tf.getKernel(config.kernelName, backendName)) tf.registerKernel(config);
}

/** True when the active backend computes this loss with the kernels above. */
export function softmaxCrossEntropyApplies(logits: tf.Tensor, labels: tf.Tensor): boolean {
  return logits.rank === 2 && logits.dtype === 'float32' && labels.rank === 1 && labels.dtype === 'int32' && backendHas(SOFTMAX_CROSS_ENTROPY);
}

/** Per-row losses [n], differentiable in the logits (the labels are data). */
export function softmaxCrossEntropyOp(logits: tf.Tensor2D, labels: tf.Tensor1D, smoothing: number): tf.Tensor1D {
  const attrs = { smoothing };
  const op = tf.customGrad(((z: tf.Tensor, save: tf.GradSaveFunc) => {
    save([z]);
    return {
      value: tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY, { logits: z, labels }, attrs) as tf.Tensor1D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY_GRAD, { dy, logits: saved[0], labels }, attrs) as tf.Tensor,
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(logits) as tf.Tensor1D;
}
