/**
 * Training kernels for the tfjs wasm backend: registers fast convolution
 * gradients (built on the backend's XNNPACK Conv2D) and the other kernels a
 * ResNet training step needs there.
 */
import { registerBatchNormGradient } from './batch-norm-gradient';
import { registerReduceGradients } from './reduce-gradients';
import { replaceKernel } from './register';
import { repeatConfig } from './wasm/repeat';
import { fusedBatchNormConfig } from './wasm/batch-norm';
import { batchMatMulConfig } from './wasm/batch-mat-mul';
import { batchNormGradConfig } from './wasm/batch-norm-grad';
import { binaryConfigs } from './wasm/binary';
import { conv2dConfig, fusedConv2dConfig } from './wasm/conv2d';
import { conv2dBackpropFilterConfig } from './wasm/conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from './wasm/conv2d-backprop-input';
import { castConfig, identityConfig } from './wasm/identity';
import { maxPoolGradConfig } from './wasm/max-pool-grad';
import { padV2Config } from './wasm/pad';
import { meanConfig, sumConfig } from './wasm/reduce';
import { sliceConfig } from './wasm/slice';

/** Registers the mtl training kernels on backend 'wasm'. Safe to call more than once. */
export function registerWasmTrainingKernels(): void {
  const configs = [
    conv2dConfig, fusedConv2dConfig, conv2dBackpropFilterConfig, conv2dBackpropInputConfig,
    fusedBatchNormConfig, batchNormGradConfig, meanConfig, sumConfig, identityConfig, castConfig, repeatConfig,
    maxPoolGradConfig, sliceConfig, padV2Config, batchMatMulConfig, ...binaryConfigs,
  ];
  for (const config of configs) {
    replaceKernel(config);
  }
  registerBatchNormGradient();
  registerReduceGradients();
}
