/** Typed-array access to tensors of the tfjs cpu backend. */
import { TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

export type { MathBackendCPU };

export function asCpu(backend: unknown): MathBackendCPU {
  return backend as MathBackendCPU;
}

/** The float32 values of a tensor (the backend's own array: do not write). */
export function f32(cpu: MathBackendCPU, t: TensorInfo): Float32Array {
  return cpu.data.get(t.dataId).values as Float32Array;
}

/** A new float32 tensor holding `values`. */
export function output(cpu: MathBackendCPU, shape: number[], values: Float32Array): TensorInfo {
  return cpu.makeTensorInfo(shape, 'float32', values);
}
