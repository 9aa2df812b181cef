/**
 * Training kernels for the pure-JS tfjs cpu backend: typed-array im2col/GEMM
 * convolution gradients in place of the reference ones, and the single-kernel
 * batch-norm gradient.
 */
import { registerBatchNormGradient } from './batch-norm-gradient';
import { batchNormGradConfig } from './cpu/batch-norm-grad';
import { replaceKernel } from './register';

/** Registers the mtl training kernels on backend 'cpu'. Safe to call more than once. */
export function registerCpuTrainingKernels(): void {
  for (const config of [batchNormGradConfig]) {
    replaceKernel(config);
  }
  registerBatchNormGradient();
}
