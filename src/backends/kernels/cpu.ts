/** Training kernels replacing slow ones of the plain-JS cpu backend; registered once. */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import { registerBatchNormKernels } from './batch-norm';
import { conv2DBackpropFilterCpuConfig } from './cpu-conv-filter';

export function registerCpuTrainingKernels(): void {
  for (const config of [conv2DBackpropFilterCpuConfig]) {
    const current = getKernel(config.kernelName, config.backendName);
    if (current?.kernelFunc === config.kernelFunc) continue;
    if (current) unregisterKernel(config.kernelName, config.backendName);
    registerKernel(config);
  }
  registerBatchNormKernels('cpu');
}
