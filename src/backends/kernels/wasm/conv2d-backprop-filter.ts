/**
 * Conv2DBackpropFilter for the wasm backend: a WebAssembly SIMD kernel generated
 * for the layer's geometry (see simd/conv-filter-grad) reads x and dy in place,
 * with no transposes or packing.
 */
import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { ConvGradAttrs, convGeometry } from '../conv-geometry';
import { allocF32, asWasm, heapPtr, heapSlack, wasmMemory } from './backend';
import { kernelModule } from './simd/cache';
import { convFilterGradModule } from './simd/conv-filter-grad';

interface Attrs extends ConvGradAttrs {
  filterShape: [number, number, number, number];
}

const conv2dBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as Attrs;
  const g = convGeometry(x.shape, a.filterShape, a);
  const out = allocF32(wasm, [g.filterHeight, g.filterWidth, g.inChannels, g.outChannels]);
  const masked = heapSlack(wasm, out, dy);
  const kernel = kernelModule(wasmMemory(wasm), `dw:${masked}:${JSON.stringify(g)}`, () => convFilterGradModule(g, masked));
  kernel.dw(heapPtr(wasm, x), heapPtr(wasm, dy), heapPtr(wasm, out));
  return out;
};

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter,
};
