/** Calling the wasm backend's own kernels from inside another kernel, with temporaries freed. */
import { getKernel, type TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's BackendWasm that kernels use. */
export interface WasmBackend {
  disposeData(dataId: object): void;
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

export function runKernel(name: string, inputs: Record<string, TensorInfo>, attrs: object, backend: object): TensorInfo {
  const kernel = getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm kernel ${name} is missing`);
  return kernel.kernelFunc({ inputs, attrs: attrs as never, backend: backend as never }) as TensorInfo;
}

/** Tracks intermediate tensors of one kernel call and frees them at the end. */
export class Temporaries {
  private readonly infos: TensorInfo[] = [];
  constructor(private readonly backend: WasmBackend) {}
  keep<T extends TensorInfo>(info: T): T {
    this.infos.push(info);
    return info;
  }
  run(name: string, inputs: Record<string, TensorInfo>, attrs: object): TensorInfo {
    return this.keep(runKernel(name, inputs, attrs, this.backend));
  }
  dispose(): void {
    for (const info of this.infos) this.backend.disposeData(info.dataId);
  }
}
