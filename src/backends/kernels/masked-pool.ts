/**
 * Pooling over time that leaves padding out (the text encoders' MaskedPooling), as
 * one kernel each way instead of a mask, a broadcast multiply, a transposed sum and,
 * for max, an Equal over the whole input in the gradient:
 *
 *   MtlMaskedPool      x [B, T, D], ids [B, T] -> y [B, D], at [B, D] (int32)
 *     mean: y[b] = Σ_{t: ids[b,t] > 0} x[b,t] / max(1, #real tokens), at unused (0)
 *     max:  y[b,d] = max over real tokens, at[b,d] = its position (−1 without tokens, y = 0)
 *   MtlMaskedPoolGrad  dy [B, D], ids, at -> dx [B, T, D]
 *
 * On wasm SIMD loops (wasm/simd/rows.ts) where D % 4 == 0, plain loops otherwise.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { hostArrays } from './host-arrays';
import { asWasm, heapPtr } from './wasm/backend';
import { rowKernels } from './wasm/simd/rows';

export const MASKED_POOL = 'MtlMaskedPool';
export const MASKED_POOL_GRAD = 'MtlMaskedPoolGrad';

export type PoolMode = 'mean' | 'max';

interface Attrs {
  mode: PoolMode;
}

function forwardFor(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, ids } = inputs as { x: TensorInfo; ids: TensorInfo };
    const { mode } = attrs as unknown as Attrs;
    const [B, T, D] = x.shape;
    const h = hostArrays(backendName, backend);
    const yInfo = h.allocate([[B, D]])[0];
    const atInfo = h.allocate([[B, D]], 'int32')[0];
    if (backendName === 'wasm' && D % 4 === 0 && ids.dtype === 'float32') {
      const wasm = asWasm(backend);
      const rows = rowKernels(wasm, D);
      if (mode === 'mean') rows.meanPool(heapPtr(wasm, x), heapPtr(wasm, ids), heapPtr(wasm, yInfo), B, T);
      else rows.maxPool(heapPtr(wasm, x), heapPtr(wasm, ids), heapPtr(wasm, yInfo), heapPtr(wasm, atInfo), B, T);
      return [yInfo, atInfo];
    }
    const xs = h.view(x);
    const tokens = h.values(ids);
    const y = h.view(yInfo);
    const at = h.values(atInfo) as Int32Array;
    for (let b = 0; b < B; b++) {
      const out = b * D;
      if (mode === 'mean') {
        y.fill(0, out, out + D);
        at.fill(0, out, out + D);
        let count = 0;
        for (let t = 0; t < T; t++) {
          if (!(tokens[b * T + t] > 0)) continue;
          count++;
          const row = (b * T + t) * D;
          for (let d = 0; d < D; d++) y[out + d] += xs[row + d];
        }
        const scale = 1 / Math.max(1, count);
        for (let d = 0; d < D; d++) y[out + d] *= scale;
      } else {
        y.fill(0, out, out + D);
        at.fill(-1, out, out + D);
        for (let t = 0; t < T; t++) {
          if (!(tokens[b * T + t] > 0)) continue;
          const row = (b * T + t) * D;
          for (let d = 0; d < D; d++) {
            if (at[out + d] < 0 || xs[row + d] > y[out + d]) {
              y[out + d] = xs[row + d];
              at[out + d] = t;
            }
          }
        }
      }
    }
    return [yInfo, atInfo];
  };
}

function backwardFor(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, ids, at } = inputs as { dy: TensorInfo; ids: TensorInfo; at: TensorInfo };
    const { mode } = attrs as unknown as Attrs;
    const [B, T] = ids.shape;
    const D = dy.shape[1];
    const h = hostArrays(backendName, backend);
    const dxInfo = h.allocate([[B, T, D]])[0];
    if (backendName === 'wasm' && mode === 'mean' && D % 4 === 0 && ids.dtype === 'float32') {
      const wasm = asWasm(backend);
      rowKernels(wasm, D).meanPoolGrad(heapPtr(wasm, dy), heapPtr(wasm, ids), heapPtr(wasm, dxInfo), B, T);
      return dxInfo;
    }
    const dys = h.view(dy);
    const tokens = h.values(ids);
    const dx = h.view(dxInfo);
    dx.fill(0);
    if (mode === 'mean') {
      for (let b = 0; b < B; b++) {
        let count = 0;
        for (let t = 0; t < T; t++) if (tokens[b * T + t] > 0) count++;
        const scale = 1 / Math.max(1, count);
        for (let t = 0; t < T; t++) {
          if (!(tokens[b * T + t] > 0)) continue;
          const row = (b * T + t) * D;
          for (let d = 0; d < D; d++) dx[row + d] = dys[b * D + d] * scale;
        }
      }
    } else {
      const positions = h.values(at) as Int32Array;
      for (let b = 0; b < B; b++) {
        for (let d = 0; d < D; d++) {
          const t = positions[b * D + d];
          if (t >= 0) dx[(b * T + t) * D + d] = dys[b * D + d];
        }
      }
    }
    return dxInfo;
  };
}

/** Registers both kernels for a host-memory backend, and the gradient once. */
export function registerMaskedPoolKernels(backendName: 'wasm' | 'cpu'): void {
  if (!tf.getKernel(MASKED_POOL, backendName)) tf.registerKernel({ kernelName: MASKED_POOL, backendName, kernelFunc: forwardFor(backendName) });
  if (!tf.getKernel(MASKED_POOL_GRAD, backendName)) tf.registerKernel({ kernelName: MASKED_POOL_GRAD, backendName, kernelFunc: backwardFor(backendName) });
  registerMaskedPoolGradient();
}

/** MtlMaskedPool's gradient (MtlMaskedPoolGrad on the active backend); idempotent. */
export function registerMaskedPoolGradient(): void {
  if (!tf.getGradient(MASKED_POOL)) {
    tf.registerGradient({
      kernelName: MASKED_POOL,
      inputsToSave: ['ids'],
      outputsToSave: [false, true],
      gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
        const dy = Array.isArray(dys) ? dys[0] : dys;
        const [ids, at] = saved;
        return {
          x: () => tf.engine().runKernel(MASKED_POOL_GRAD, { dy, ids, at }, attrs) as tf.Tensor,
          ids: () => tf.zerosLike(ids),
        };
      },
    });
  }
}

/** The pooled [B, D] through the kernel pair, where the active backend has it; undefined elsewhere. */
export function maskedPoolKernel(x: tf.Tensor, ids: tf.Tensor, mode: PoolMode): tf.Tensor | undefined {
  if (!tf.getKernel(MASKED_POOL, tf.getBackend())) return undefined;
  const [y] = tf.engine().runKernel(MASKED_POOL, { x, ids }, { mode }) as tf.Tensor[];
  return y;
}
