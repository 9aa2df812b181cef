/** Training kernels the stock wasm backend lacks or runs slowly; registered once, replacing stock ones. */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterWasmConfig } from './wasm-conv-filter';
import { conv2DBackpropInputWasmConfig } from './wasm-conv-input';
import { batchMatMulWasmConfig } from './wasm-matmul';
import { identityWasmConfig } from './wasm-identity';
import { registerBatchNormKernels } from './batch-norm';

export function registerWasmTrainingKernels(): void {
  const kernels: KernelConfig[] = [conv2DBackpropFilterWasmConfig, conv2DBackpropInputWasmConfig, batchMatMulWasmConfig(), identityWasmConfig];
  for (const config of kernels) {
    const current = getKernel(config.kernelName, config.backendName);
    if (current?.kernelFunc === config.kernelFunc) continue;
    if (current) unregisterKernel(config.kernelName, config.backendName);
    registerKernel(config);
  }
  registerBatchNormKernels('wasm');
}
