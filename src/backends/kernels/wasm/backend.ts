/**
 * Small helpers for kernels that run on the tfjs wasm backend: calling the
 * backend's own kernels directly (no engine, no tape) and viewing tensor memory
 * on the wasm heap.
 */
import { getKernel, KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { WA, WasmMemory } from './simd/webassembly';

export type { BackendWasm };

/** Narrows the generic backend handed to a kernel to the wasm one. */
export function asWasm(backend: unknown): BackendWasm {
  return backend as unknown as BackendWasm;
}

/**
 * Runs a kernel registered on 'wasm' synchronously and returns its output. The
 * caller owns the output and must release it with `release`.
 */
export function runWasmKernel(
  backend: BackendWasm,
  name: string,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap,
): TensorInfo {
  const kernel = getKernel(name, 'wasm');
  if (kernel === undefined) {
    throw new Error(`Kernel '${name}' not registered for backend 'wasm'`);
  }
  return kernel.kernelFunc({ inputs, attrs, backend: backend as unknown as KernelBackend }) as TensorInfo;
}

/**
 * A Float32Array over a tensor's heap memory. Any allocation on the wasm heap
 * may grow (and detach) the heap, so take views only after allocating.
 */
export function heapF32(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/** The backend's WebAssembly memory, which generated kernels import: exported by the plain builds, imported (shared) by the threaded one. */
export function wasmMemory(backend: BackendWasm): WasmMemory {
  const module = backend.wasm as unknown as { asm?: { memory?: unknown }; wasmMemory?: unknown };
  const memory = module.asm?.memory ?? module.wasmMemory;
  if (!(memory instanceof WA.Memory)) throw new Error('tfjs wasm backend exposes no WebAssembly.Memory');
  return memory;
}

/** Byte address of a tensor's data on the wasm heap. */
export function heapPtr(backend: BackendWasm, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

/** True when the heap extends at least 16 bytes past each tensor's data (for masked vector tails). */
export function heapSlack(backend: BackendWasm, ...tensors: TensorInfo[]): boolean {
  const end = wasmMemory(backend).buffer.byteLength;
  return tensors.every((t) => heapPtr(backend, t) + 4 * t.shape.reduce((a, b) => a * b, 1) + 16 <= end);
}

/** Allocates an uninitialised float32 tensor on the wasm heap. */
export function allocF32(backend: BackendWasm, shape: number[]): TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

/** Releases intermediates created inside a kernel. */
export function release(backend: BackendWasm, ...tensors: TensorInfo[]): void {
  for (const t of tensors) backend.disposeData(t.dataId);
}
