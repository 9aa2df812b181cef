/**
 * The loop of a two-operand elementwise kernel on a host-memory backend: on wasm a
 * generated SIMD function over the groups of four floats (`simd`), then `scalar` in JS for
 * the rest; on cpu `scalar` for every element. `out` is allocated by the caller.
 */
import { util, type TensorInfo } from '@tensorflow/tfjs-core';
import { hostArrays } from './host-arrays';
import { asWasm, heapPtr, wasmMemory } from './wasm/backend';
import { kernelModule } from './wasm/simd/cache';

export interface SimdElementwise {
  /** The module's cache key. */
  key: string;
  /** Generates a module exporting `name(a, b, vectors, out)`. */
  generate: () => Uint8Array;
  name: string;
}

export function elementwise(backendName: 'wasm' | 'cpu', backend: object, a: TensorInfo, b: TensorInfo, out: TensorInfo, simd: SimdElementwise, scalar: (x: number, y: number) => number): void {
  const n = util.sizeFromShape(a.shape);
  let done = 0;
  if (backendName === 'wasm') {
    const wasm = asWasm(backend);
    const vectors = Math.floor(n / 4);
    kernelModule(wasmMemory(wasm), simd.key, simd.generate)[simd.name](heapPtr(wasm, a), heapPtr(wasm, b), vectors, heapPtr(wasm, out));
    done = 4 * vectors;
  }
  if (done < n) {
    const arrays = hostArrays(backendName, backend);
    const [x, y, o] = [arrays.view(a), arrays.view(b), arrays.view(out)];
    for (let i = done; i < n; i++) o[i] = scalar(x[i], y[i]);
  }
}
