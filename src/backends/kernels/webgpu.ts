/**
 * mtl's kernels for the tfjs webgpu backend (WGSL, webgpu/). Registered once the
 * backend is up; the layers and optimizers call them only where the active backend
 * has them, as on wasm and cpu.
 */
import { registerBatchNormGradient } from './batch-norm-gradient';
import { registerReduceGradients } from './reduce-gradients';
import { registerKernel } from '@tensorflow/tfjs-core';
import { replaceKernel } from './register';
import { addNConfig } from './webgpu/add-n';
import { castConfig } from './webgpu/cast';
import { maskedPoolConfigs } from './webgpu/masked-pool';
import { adamConfig } from './webgpu/adam';
import { repeatConfig } from './webgpu/repeat';
import { registerMaskedPoolGradient } from './masked-pool';

let done = false;

/** Registers the mtl training kernels on backend 'webgpu'. Safe to call more than once. */
export function registerWebGpuTrainingKernels(): void {
  if (done) return;
  done = true;
  for (const config of [addNConfig, castConfig]) replaceKernel(config);
  registerBatchNormGradient();
  registerReduceGradients();
  for (const config of [...maskedPoolConfigs, adamConfig, repeatConfig]) registerKernel(config);
  registerMaskedPoolGradient();
}
