/** Compiled kernels, one per generator and key, per wasm memory (i.e. per backend instance). */
import { compile, instantiateModule } from './emit';
import { WasmMemory } from './webassembly';

export type Exports = Record<string, (...args: number[]) => void>;

/** A kernel module compiled for one memory, and its instance there. */
export interface CompiledKernel {
  module: object;
  exports: Exports;
}

const compiled = new WeakMap<WasmMemory, Map<string, CompiledKernel>>();

/** `generate()`'s module for `key`, compiled and instantiated on first use. */
export function compiledKernel(memory: WasmMemory, key: string, generate: () => Uint8Array): CompiledKernel {
  let byKey = compiled.get(memory);
  if (byKey === undefined) {
    byKey = new Map();
    compiled.set(memory, byKey);
  }
  let kernel = byKey.get(key);
  if (kernel === undefined) {
    const module = compile(generate(), memory);
    kernel = { module, exports: instantiateModule(module, memory) };
    byKey.set(key, kernel);
  }
  return kernel;
}

/** The exports of `generate()`'s module for `key`, compiled on first use. */
export function kernelModule(memory: WasmMemory, key: string, generate: () => Uint8Array): Exports {
  return compiledKernel(memory, key, generate).exports;
}
