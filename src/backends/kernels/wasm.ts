/**
 * Training kernels for the tfjs wasm backend. The stock backend has no
 * Conv2DBackpropFilter (a conv net cannot train) and runs several other kernels
 * of a training step slowly; this registers replacements, most of them
 * WebAssembly SIMD kernels generated at run time for each shape (wasm/simd/)
 * that work in place on the backend's heap, and gradient overrides for
 * FusedBatchNorm, Mean and Sum (taking effect only on backends with the mtl
 * kernels they use), and UnsortedSegmentSum, which the stock backend lacks (the
 * embedding gradient). Cases a kernel does not handle go to the stock kernel.
 */
import { registerBatchNormGradient } from './batch-norm-gradient';
import { registerAdamKernel } from './adam';
import { registerBatchNormKernels } from './batch-norm';
import { registerDenseKernels } from './dense';
import { registerSoftmaxCrossEntropyKernels } from './softmax-cross-entropy';
import { registerMaskedPoolKernels } from './masked-pool';
import { registerReduceGradients } from './reduce-gradients';
import { registerReluGradient } from './relu-grad';
import { registerAddReluKernel } from './add-relu';
import { registerConv2DLayerKernel } from './conv2d-layer';
import { replaceKernel } from './register';
import { repeatConfig } from './wasm/repeat';
import { fusedBatchNormConfig } from './wasm/batch-norm';
import { batchMatMulConfig } from './wasm/batch-mat-mul';
import { batchNormGradConfig } from './wasm/batch-norm-grad';
import { binaryConfigs } from './wasm/binary';
import { conv2dConfig, fusedConv2dConfig } from './wasm/conv2d';
import { conv2dBackpropFilterConfig } from './wasm/conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from './wasm/conv2d-backprop-input';
import { castConfig, identityConfig, transposeConfig } from './wasm/identity';
import { maxPoolGradConfig } from './wasm/max-pool-grad';
import { padV2Config } from './wasm/pad';
import { meanConfig, sumConfig } from './wasm/reduce';
import { sliceConfig } from './wasm/slice';
import { unsortedSegmentSumConfig } from './wasm/unsorted-segment-sum';
import { gatherConfig } from './wasm/gather';

/** Registers the mtl training kernels on backend 'wasm'. Safe to call more than once. */
export function registerWasmTrainingKernels(): void {
  const configs = [
    conv2dConfig, fusedConv2dConfig, conv2dBackpropFilterConfig, conv2dBackpropInputConfig,
    fusedBatchNormConfig, batchNormGradConfig, meanConfig, sumConfig, identityConfig, castConfig, transposeConfig, repeatConfig,
    maxPoolGradConfig, sliceConfig, padV2Config, batchMatMulConfig, unsortedSegmentSumConfig, gatherConfig, ...binaryConfigs,
  ];
  for (const config of configs) {
    replaceKernel(config);
  }
  registerBatchNormGradient();
  registerReduceGradients();
  // mtl's own batch-norm layer trains through these (one kernel forward, one backward).
  registerBatchNormKernels('wasm');
  registerAdamKernel('wasm');
  // mtl's dense layer likewise (src/models/layers/dense.ts).
  registerDenseKernels('wasm');
  registerSoftmaxCrossEntropyKernels('wasm');
  registerReluGradient('wasm');
  registerAddReluKernel('wasm');
  registerConv2DLayerKernel('wasm');
  registerMaskedPoolKernels('wasm');
}
