/**
 * Training kernels for the pure-JS tfjs cpu backend: typed-array im2col/GEMM
 * convolution gradients in place of the reference ones, and the single-kernel
 * batch-norm gradient.
 */
import { registerBatchNormGradient } from './batch-norm-gradient';
import { registerReduceGradients } from './reduce-gradients';
import { batchNormGradConfig } from './cpu/batch-norm-grad';
import { replaceKernel } from './register';
import { repeatConfig } from './cpu/repeat';

/** Registers the mtl training kernels on backend 'cpu'. Safe to call more than once. */
export function registerCpuTrainingKernels(): void {
  for (const config of [batchNormGradConfig, repeatConfig]) {
    replaceKernel(config);
  }
  registerBatchNormGradient();
  registerReduceGradients();
}
