/**
 * The loop of a two-operand elementwise kernel on a host-memory backend: on wasm a
 * generated SIMD function over the groups of four floats (`simd`), then `scalar` in JS for
 * the rest; on cpu `scalar` for every element. `out` is allocated by the caller.
 */
import { util, type TensorInfo } from '@tensorflow/tfjs-core';
import { hostArrays } from './host-arrays';
import { asWasm, heapPtr, wasmMemory } from './wasm/backend';
import { MIN_SHARE_FLOATS, runSplit } from './wasm/kernel-pool';
import { assemble, Func, Local } from './wasm/simd/emit';

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
    runSplit(wasmMemory(wasm), vectors, MIN_SHARE_FLOATS / 4, (start, count) => ({
      key: simd.key,
      generate: simd.generate,
      fn: simd.name,
      args: [heapPtr(wasm, a) + 16 * start, heapPtr(wasm, b) + 16 * start, count, heapPtr(wasm, out) + 16 * start],
    }));
    done = 4 * vectors;
  }
  if (done < n) {
    const arrays = hostArrays(backendName, backend);
    const [x, y, o] = [arrays.view(a), arrays.view(b), arrays.view(out)];
    for (let i = done; i < n; i++) o[i] = scalar(x[i], y[i]);
  }
}

/**
 * Module bytes exporting `name(a, b, vectors, out)`: over groups of four floats,
 * `combine` leaves out's vector on the stack from a's and b's (in the locals it gets).
 */
export function elementwiseModule(name: string, combine: (f: Func, a: Local, b: Local) => void): Uint8Array {
  const f = new Func(name, ['i32', 'i32', 'i32', 'i32']);
  const [a, b, vectors, out] = f.params;
  const i = f.local('i32');
  const at = f.local('i32');
  const av = f.local('v128');
  const bv = f.local('v128');
  f.i32(0).set(at);
  f.forCount(i, () => f.get(vectors), () => {
    f.get(a).get(at).add().v128Load().set(av);
    f.get(b).get(at).add().v128Load().set(bv);
    f.get(out).get(at).add();
    combine(f, av, bv);
    f.v128Store();
    f.inc(at, 16);
  });
  return assemble([f]);
}
