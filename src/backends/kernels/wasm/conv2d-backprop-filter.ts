/**
 * Conv2DBackpropFilter for the wasm backend: per-tap products over the batch for
 * small images and 1x1 filters (./gather-conv), Winograd for stride-1 3x3 (F(2x2,3x3)
 * transposed), 1x3 and 3x1 layers (simd/winograd-filter-grad), otherwise a SIMD kernel generated for
 * the layer's geometry (simd/conv-filter-grad) reading x and dy in place, with
 * no transposes or packing.
 */
import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { ConvGeometry, ConvGradAttrs, convGeometry } from '../conv-geometry';
import { Pads } from '../conv-plans';
import { allocF32, asWasm, BackendWasm, heapF32, heapPtr, heapSlack, release, wasmMemory } from './backend';
import { gatherApplies, gatherFilterGrad } from './gather-conv';
import { padImage } from './pad';
import { kernelModule } from './simd/cache';
import { convFilterGradModule } from './simd/conv-filter-grad';
import { tileName, WinogradTile } from './simd/winograd';
import {
  winogradFilterGradModule, winogradFilterGradOutputModule, winogradFilterGradScratch, winogradFilterGradTile,
} from './simd/winograd-filter-grad';

interface Attrs extends ConvGradAttrs {
  filterShape: [number, number, number, number];
}

function winogradFilterGrad(
  wasm: BackendWasm, g: ConvGeometry, tile: WinogradTile, x: TensorInfo, dy: TensorInfo, out: TensorInfo,
): void {
  const pads: Pads = {
    top: g.padTop,
    left: g.padLeft,
    bottom: Math.max(0, g.outHeight + g.filterHeight - 1 - g.inHeight - g.padTop),
    right: Math.max(0, g.outWidth + g.filterWidth - 1 - g.inWidth - g.padLeft),
  };
  const padded = padImage(wasm, x, pads);
  const layout = winogradFilterGradScratch(g, tile);
  const scratch = allocF32(wasm, [layout.total]);
  heapF32(wasm, scratch).fill(0, layout.macc);
  const [, ph, pw] = padded.shape;
  const name = tileName(tile);
  const kernel = kernelModule(wasmMemory(wasm), `winograd-dw:${name}:${ph}:${pw}:${JSON.stringify(g)}`,
    () => winogradFilterGradModule(g, tile, ph, pw));
  kernel.acc(heapPtr(wasm, padded), heapPtr(wasm, dy), heapPtr(wasm, scratch));
  kernelModule(wasmMemory(wasm), `winograd-dw-out:${name}:${g.inChannels}:${g.outChannels}`,
    () => winogradFilterGradOutputModule(g.inChannels, g.outChannels, tile))
    .out(heapPtr(wasm, scratch) + 4 * layout.macc, heapPtr(wasm, out));
  release(wasm, scratch);
  if (padded !== x) release(wasm, padded);
}

const conv2dBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as Attrs;
  const g = convGeometry(x.shape, a.filterShape, a);
  if (gatherApplies(g, 'filter')) return gatherFilterGrad(wasm, g, x, dy);
  const out = allocF32(wasm, [g.filterHeight, g.filterWidth, g.inChannels, g.outChannels]);
  const tile = winogradFilterGradTile(g);
  if (tile !== null) {
    winogradFilterGrad(wasm, g, tile, x, dy, out);
    return out;
  }
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
