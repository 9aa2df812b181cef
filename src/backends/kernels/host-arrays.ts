/**
 * Kernels that compute in plain JavaScript loops over typed arrays, on backends
 * whose tensors live in host memory: the wasm backend (a view of its heap) and the
 * JS cpu backend (its values). Outputs are allocated before any view is taken,
 * because growing the wasm heap detaches views taken earlier.
 */
import { backend, getBackend, type Tensor, type TensorInfo } from '@tensorflow/tfjs-core';

export type HostValues = Float32Array | Int32Array;

export interface HostArrays {
  /** Allocates outputs of the given shapes (float32 unless told). */
  allocate(shapes: number[][], dtype?: 'float32' | 'int32'): TensorInfo[];
  /** A Float32Array over a float32 tensor's values (a live view on wasm: read after allocating). */
  view(info: TensorInfo): Float32Array;
  /** The same for a tensor of either dtype. */
  values(info: TensorInfo): HostValues;
}

interface WasmLike {
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): HostValues;
}

interface CpuLike {
  makeTensorInfo(shape: number[], dtype: 'float32' | 'int32', values?: HostValues): TensorInfo;
  data: { get(dataId: object): { values: HostValues } };
}

export function hostArrays(backendName: 'wasm' | 'cpu', backend: object): HostArrays {
  if (backendName === 'wasm') {
    const wasm = backend as WasmLike;
    return {
      allocate: (shapes, dtype = 'float32') => shapes.map((s) => wasm.makeOutput(s, dtype)),
      view: (info) => wasm.typedArrayFromHeap(info) as Float32Array,
      values: (info) => wasm.typedArrayFromHeap(info),
    };
  }
  const cpu = backend as CpuLike;
  return {
    allocate: (shapes, dtype = 'float32') =>
      shapes.map((s) => {
        const n = s.reduce((a, b) => a * b, 1);
        return cpu.makeTensorInfo(s, dtype, dtype === 'int32' ? new Int32Array(n) : new Float32Array(n));
      }),
    view: (info) => cpu.data.get(info.dataId).values as Float32Array,
    values: (info) => cpu.data.get(info.dataId).values,
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

/**
 * A float32 tensor's values to write in place: a live view where the active backend
 * keeps them in host memory and no other tensor shares them (so writing changes
 * nothing else); undefined otherwise. On wasm, write before anything allocates.
 */
export function writableHostValues(t: Tensor): Float32Array | undefined {
  const name = getBackend();
  if (t.dtype !== 'float32' || (name !== 'wasm' && name !== 'cpu') || backend().refCount(t.dataId) !== 1) return undefined;
  return hostArrays(name, backend()).view(t);
}
