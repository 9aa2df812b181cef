/**
 * Training kernels for the pure-JS tfjs cpu backend: typed-array im2col/GEMM
 * convolution gradients in place of the reference ones, and the single-kernel
 * batch-norm gradient.
 */
import { registerBatchNormGradient } from './batch-norm-gradient';
import { registerReduceGradients } from './reduce-gradients';
import { batchNormGradConfig } from './cpu/batch-norm-grad';
import { conv2dConfig, fusedConv2dConfig } from './cpu/conv2d';
import { conv2dBackpropFilterConfig } from './cpu/conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from './cpu/conv2d-backprop-input';
import { replaceKernel } from './register';
import { repeatConfig } from './cpu/repeat';

/** Registers the mtl training kernels on backend 'cpu'. Safe to call more than once. */
export function registerCpuTrainingKernels(): void {
  const configs = [
    conv2dConfig, fusedConv2dConfig, conv2dBackpropFilterConfig, conv2dBackpropInputConfig, batchNormGradConfig, repeatConfig,
  ];
  for (const config of configs) {
    replaceKernel(config);
  }
  registerBatchNormGradient();
  registerReduceGradients();
}
