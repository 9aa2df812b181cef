/**
 * Training kernels for the pure-JS tfjs cpu backend: typed-array im2col/GEMM
 * convolution gradients in place of the reference ones.
 */

/** Registers the mtl training kernels on backend 'cpu'. Safe to call more than once. */
export function registerCpuTrainingKernels(): void {
  // filled in below
}
