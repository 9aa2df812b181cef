/**
 * Kernels that compute in plain JavaScript loops over typed arrays, on backends
 * whose tensors live in host memory: the wasm backend (a view of its heap) and the
 * JS cpu backend (its values). Outputs are allocated before any view is taken,
 * because growing the wasm heap detaches views taken earlier.
 */
import { backend, getBackend, type Tensor, type TensorInfo } from '@tensorflow/tfjs-core';

export interface HostArrays {
  /** Allocates float32 outputs of the given shapes. */
  allocate(shapes: number[][]): TensorInfo[];
  /** A Float32Array over a tensor's values (a live view on wasm: read after allocating). */
  view(info: TensorInfo): Float32Array;
}

interface WasmLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

interface CpuLike {
  makeTensorInfo(shape: number[], dtype: 'float32', values?: Float32Array): TensorInfo;
  data: { get(dataId: object): { values: Float32Array } };
}

export function hostArrays(backendName: 'wasm' | 'cpu', backend: object): HostArrays {
  if (backendName === 'wasm') {
    const wasm = backend as WasmLike;
    return {
      allocate: (shapes) => shapes.map((s) => wasm.makeOutput(s, 'float32')),
      view: (info) => wasm.typedArrayFromHeap(info),
    };
  }
  const cpu = backend as CpuLike;
  return {
    allocate: (shapes) => shapes.map((s) => cpu.makeTensorInfo(s, 'float32', new Float32Array(s.reduce((a, b) => a * b, 1)))),
    view: (info) => cpu.data.get(info.dataId).values,
  };
}

/**
 * A float32 tensor's values without a copy where the active backend keeps them in
 * host memory (a live view on wasm: use it before anything allocates on the heap),
 * else a copy (dataSync). Read only.
 */
export function hostValues(t: Tensor): Float32Array {
  const name = getBackend();
  if (t.dtype === 'float32' && (name === 'wasm' || name === 'cpu')) return hostArrays(name, backend()).view(t);
  return t.dataSync() as Float32Array;
}
