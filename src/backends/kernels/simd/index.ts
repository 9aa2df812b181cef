/**
 * mtl's batch-norm SIMD kernels (kernels.c), instantiated on the tfjs wasm
 * instance's memory so they read and write tensors where they are. One instance
 * per tfjs heap (each worker thread has its own).
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { kernelsWasmBase64 } from './binary';

type Ptr = number;

export interface SimdKernels {
  batch_norm_forward(x: Ptr, rows: number, c: number, gamma: Ptr, beta: Ptr, eps: number, y: Ptr, mean: Ptr, variance: Ptr): void;
  batch_norm_backward(
    dy: Ptr, x: Ptr, rows: number, c: number, gamma: Ptr, mean: Ptr, variance: Ptr, eps: number,
    dx: Ptr, dgamma: Ptr, dbeta: Ptr,
  ): void;
}

/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
export interface WasmHeapBackend {
  wasm: { asm: { memory: WebAssembly.Memory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<WebAssembly.Memory, SimdKernels>();

export function simdKernels(backend: WasmHeapBackend): SimdKernels {
  const memory = backend.wasm.asm.memory;
  let kernels = instances.get(memory);
  if (!kernels) {
    compiled ??= new WebAssembly.Module(Buffer.from(kernelsWasmBase64, 'base64'));
    kernels = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as SimdKernels;
    instances.set(memory, kernels);
  }
  return kernels;
}

/** Byte offset of a tensor's values in the tfjs heap. */
export function heapOffset(backend: WasmHeapBackend, info: TensorInfo): Ptr {
  return backend.dataIdMap.get(info.dataId).memoryOffset;
}
