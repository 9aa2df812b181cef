/**
 * AddN for more inputs than a shader may bind. tfjs-backend-webgpu 4.22 binds every
 * input of AddN as a storage buffer in one shader, and the device refuses the
 * pipeline past maxStorageBuffersPerShaderStage − 1 inputs (8 in WebGPU's default
 * limits; a gradient summed over nine or more uses fails, e.g. a shared layer read by
 * many heads). This sums chunks that fit with the stock kernel, then the partial sums.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { stockKernel } from '../register';

interface WebGpuLike {
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
  disposeData(dataId: object): void;
}

const addN: KernelFunc = (args) => {
  const stock = stockKernel('AddN', 'webgpu');
  const inputs = args.inputs as unknown as TensorInfo[];
  const backend = args.backend as unknown as WebGpuLike;
  const fit = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1);
  if (inputs.length <= fit) return stock(args);
  let level = inputs;
  const partials: TensorInfo[] = [];
  while (level.length > fit) {
    const next: TensorInfo[] = [];
    for (let i = 0; i < level.length; i += fit) {
      const chunk = level.slice(i, i + fit);
      if (chunk.length === 1) {
        next.push(chunk[0]);
        continue;
      }
      const sum = stock({ ...args, inputs: chunk as unknown as typeof args.inputs }) as TensorInfo;
      partials.push(sum);
      next.push(sum);
    }
    level = next;
  }
  const out = stock({ ...args, inputs: level as unknown as typeof args.inputs }) as TensorInfo;
  for (const p of partials) backend.disposeData(p.dataId);
  return out;
};

export const addNConfig: KernelConfig = { kernelName: 'AddN', backendName: 'webgpu', kernelFunc: addN };
