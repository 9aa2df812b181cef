/**
 * MtlAdam: Adam's update of one weight in a single kernel, where tfjs's Adam runs
 * about ten (moments, bias correction, update, assign) per weight per step:
 *
 *   w, g, m, v -> w', m', v'   m' = β1·m + (1−β1)·g,  v' = β2·v + (1−β2)·g²,
 *                              w' = w − lr·(m'/(1−β1^t)) / (√(v'/(1−β2^t)) + ε)
 *
 * On wasm a SIMD loop on the heap (simd/adam.ts), on cpu a plain loop; elsewhere
 * `adamUpdate` composes the same formula from tfjs ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { hostArrays } from './host-arrays';
import { MIN_SHARE_FLOATS, runSplit } from './wasm/kernel-pool';
import { adamModule } from './wasm/simd/adam';
import { asWasm, heapPtr, wasmMemory } from './wasm/backend';

export const ADAM = 'MtlAdam';

export interface AdamAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** The 1-based step count t of the bias correction. */
  step: number;
}

/** The bias-corrected constants: w' = w − a·m' / (s·√v' + ε). */
function constants({ learningRate, beta1, beta2, step }: AdamAttrs): { a: number; s: number } {
  return { a: learningRate / (1 - beta1 ** step), s: 1 / Math.sqrt(1 - beta2 ** step) };
}

/** Elements [from, to) in plain JS (the cpu kernel, and the wasm kernel's last < 4). */
function adamLoop(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, wOut: Float32Array, mOut: Float32Array, vOut: Float32Array, attrs: AdamAttrs, from: number, to: number): void {
  const { beta1, beta2, epsilon } = attrs;
  const { a, s } = constants(attrs);
  for (let i = from; i < to; i++) {
    const gi = g[i];
    const mi = (mOut[i] = beta1 * m[i] + (1 - beta1) * gi);
    const vi = (vOut[i] = beta2 * v[i] + (1 - beta2) * gi * gi);
    wOut[i] = w[i] - (a * mi) / (s * Math.sqrt(vi) + epsilon);
  }
}

function kernelFor(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { w, g, m, v } = inputs as Record<'w' | 'g' | 'm' | 'v', TensorInfo>;
    const a = attrs as unknown as AdamAttrs;
    const arrays = hostArrays(backendName, backend);
    const outs = arrays.allocate([w.shape, w.shape, w.shape]);
    const n = w.shape.reduce((p, q) => p * q, 1);
    let done = 0;
    if (backendName === 'wasm') {
      const wasm = asWasm(backend);
      const { a: step, s } = constants(a);
      const vectors = Math.floor(n / 4);
      const at = (t: TensorInfo) => heapPtr(wasm, t);
      runSplit(wasmMemory(wasm), vectors, MIN_SHARE_FLOATS / 4, (start, count) => ({
        key: 'adam',
        generate: adamModule,
        fn: 'adam',
        args: [...[w, g, m, v, ...outs].map((t) => at(t) + 16 * start), count, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, step, s, a.epsilon],
      }));
      done = 4 * vectors;
    }
    if (done < n) {
      const [wOut, mOut, vOut] = outs.map((t) => arrays.view(t));
      adamLoop(arrays.view(w), arrays.view(g), arrays.view(m), arrays.view(v), wOut, mOut, vOut, a, done, n);
    }
    return outs;
  };
}

export function registerAdamKernel(backendName: 'wasm' | 'cpu'): void {
  const config: KernelConfig = { kernelName: ADAM, backendName, kernelFunc: kernelFor(backendName) };
  if (!tf.getKernel(ADAM, backendName)) tf.registerKernel(config);
}

/** [w', m', v'] for one weight: the kernel where the backend has it, the same formula in tfjs ops elsewhere. */
export function adamUpdate(w: Tensor, g: Tensor, m: Tensor, v: Tensor, attrs: AdamAttrs): [Tensor, Tensor, Tensor] {
  if (tf.getKernel(ADAM, tf.getBackend())) {
    return tf.engine().runKernel(ADAM, { w, g, m, v }, attrs as unknown as Record<string, number>) as unknown as [Tensor, Tensor, Tensor];
  }
  return tf.tidy(() => {
    const { a, s } = constants(attrs);
    const m2 = tf.add(tf.mul(m, attrs.beta1), tf.mul(g, 1 - attrs.beta1));
    const v2 = tf.add(tf.mul(v, attrs.beta2), tf.mul(tf.square(g), 1 - attrs.beta2));
    const w2 = tf.sub(w, tf.div(tf.mul(m2, a), tf.add(tf.mul(tf.sqrt(v2), s), attrs.epsilon)));
    return [w2, m2, v2];
  }) as [Tensor, Tensor, Tensor];
}
