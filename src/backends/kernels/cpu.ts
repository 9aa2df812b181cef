/**
 * Training kernels for the pure-JS tfjs cpu backend: register-tiled typed-array
 * convolutions and convolution gradients in place of the reference ones (the
 * stock filter gradient reads through TensorBuffer.get, ~0.02 GFLOP/s), the
 * single-kernel batch-norm gradient, and plain-loop per-channel reductions and
 * broadcasts for batch norm's moments.
 */
import { registerBatchNormGradient } from './batch-norm-gradient';
import { registerAdamKernel } from './adam';
import { registerBatchNormKernels } from './batch-norm';
import { registerDenseKernels } from './dense';
import { registerSoftmaxCrossEntropyKernels } from './softmax-cross-entropy';
import { registerMaskedPoolKernels } from './masked-pool';
import { reluConfig, stepConfig } from './cpu/activation';
import { batchNormGradConfig } from './cpu/batch-norm-grad';
import { binaryConfigs } from './cpu/binary';
import { conv2dConfig, fusedConv2dConfig } from './cpu/conv2d';
import { conv2dBackpropFilterConfig } from './cpu/conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from './cpu/conv2d-backprop-input';
import { padV2Config } from './cpu/pad';
import { meanConfig, sumConfig } from './cpu/reduce';
import { repeatConfig } from './cpu/repeat';
import { unsortedSegmentSumConfig } from './cpu/unsorted-segment-sum';
import { registerReduceGradients } from './reduce-gradients';
import { registerReluGradient } from './relu-grad';
import { registerAddReluKernel } from './add-relu';
import { registerConv2DLayerKernel } from './conv2d-layer';
import { replaceKernel } from './register';

/** Registers the mtl training kernels on backend 'cpu'. Safe to call more than once. */
export function registerCpuTrainingKernels(): void {
  const configs = [
    conv2dConfig, fusedConv2dConfig, conv2dBackpropFilterConfig, conv2dBackpropInputConfig, batchNormGradConfig, repeatConfig, unsortedSegmentSumConfig,
    meanConfig, sumConfig, reluConfig, stepConfig, padV2Config, ...binaryConfigs,
  ];
  for (const config of configs) {
    replaceKernel(config);
  }
  registerBatchNormGradient();
  registerReduceGradients();
  // mtl's own batch-norm layer trains through these (one kernel forward, one backward).
  registerBatchNormKernels('cpu');
  registerAdamKernel('cpu');
  // mtl's dense layer likewise (src/models/layers/dense.ts).
  registerDenseKernels('cpu');
  registerSoftmaxCrossEntropyKernels('cpu');
  registerReluGradient('cpu');
  registerAddReluKernel('cpu');
  registerConv2DLayerKernel('cpu');
  registerMaskedPoolKernels('cpu');
}
