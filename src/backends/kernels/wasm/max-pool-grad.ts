/**
 * MaxPoolGrad for the wasm backend as a generated SIMD kernel
 * (simd/max-pool-grad). The stock kernel is ~35x slower than MaxPool itself and
 * routes the gradient of all-negative windows to the wrong place; this one
 * gives the first maximum of each window the gradient, as the cpu backend does.
 */
import { backend_util, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { Shape4 } from '../conv-geometry';
import { stockKernel } from '../register';
import { allocF32, asWasm, heapF32, heapPtr, wasmMemory } from './backend';
import { kernelModule } from './simd/cache';
import { maxPoolGradModule, PoolGeometry } from './simd/max-pool-grad';

const maxPoolGrad: KernelFunc = (args) => {
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as {
    filterSize: [number, number] | number; strides: [number, number] | number;
    pad: 'valid' | 'same' | number | backend_util.ExplicitPadding; dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  if (input.dtype !== 'float32' || input.shape.length !== 4) return stockKernel('MaxPoolGrad', 'wasm')(args);
  const wasm = asWasm(args.backend);
  const info = backend_util.computePool2DInfo(input.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
  const g: PoolGeometry = {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    channels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
  const dx = allocF32(wasm, input.shape);
  heapF32(wasm, dx).fill(0);
  const kernel = kernelModule(wasmMemory(wasm), `max-pool-grad:${JSON.stringify(g)}`, () => maxPoolGradModule(g));
  kernel.grad(heapPtr(wasm, input), heapPtr(wasm, dy), heapPtr(wasm, dx));
  return dx;
};

export const maxPoolGradConfig: KernelConfig = { kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: maxPoolGrad };
