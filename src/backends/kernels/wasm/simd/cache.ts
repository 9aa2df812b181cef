/** Compiled kernels, one per generator and key, per wasm memory (i.e. per backend instance). */
import { instantiate } from './emit';
import { WasmMemory } from './webassembly';

type Exports = Record<string, (...args: number[]) => void>;

const compiled = new WeakMap<WasmMemory, Map<string, Exports>>();

/** The exports of `generate()`'s module for `key`, compiled on first use. */
export function kernelModule(memory: WasmMemory, key: string, generate: () => Uint8Array): Exports {
  let byKey = compiled.get(memory);
  if (byKey === undefined) {
    byKey = new Map();
    compiled.set(memory, byKey);
  }
  let exports = byKey.get(key);
  if (exports === undefined) {
    exports = instantiate(generate(), memory);
    byKey.set(key, exports);
  }
  return exports;
}
