/**
 * Cast for int32/bool -> float32 that converts the values. tfjs-backend-webgpu 4.22
 * casts to a wider type by relabelling the tensor and keeping its i32 buffer; kernels
 * that copy values straight into an f32 output (Transpose, used by the gradient of
 * Gather, i.e. of every embedding) then fail to compile ("type mismatch ... expected
 * 'f32', got 'i32'"). Every other cast goes to the stock kernel.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { stockKernel } from '../register';
import { elementwiseProgram, type WebGpuBackendLike } from './program';

const cast: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { dtype } = args.attrs as { dtype: string };
  if (dtype !== 'float32' || (x.dtype !== 'int32' && x.dtype !== 'bool')) return stockKernel('Cast', 'webgpu')(args);
  const backend = args.backend as unknown as WebGpuBackendLike;
  if (backend.shouldExecuteOnCPU([x])) {
    const values = backend.tensorMap.get(x.dataId).values as ArrayLike<number>;
    return backend.makeTensorInfo(x.shape, 'float32', Float32Array.from(values));
  }
  const program = elementwiseProgram('castToFloat', x.shape, ['A'], 'setOutputAtIndex(index, f32(A[index]));');
  return backend.runWebGPUProgram(program, [x], 'float32');
};

export const castConfig: KernelConfig = { kernelName: 'Cast', backendName: 'webgpu', kernelFunc: cast };
