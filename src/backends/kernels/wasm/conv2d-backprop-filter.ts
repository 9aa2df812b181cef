/**
 * Conv2DBackpropFilter for the wasm backend: per-tap products over the batch for
 * small images and 1x1 filters (./gather-conv), Winograd for stride-1 3x3 (F(2x2,3x3)
 * transposed), 1x3 and 3x1 layers (simd/winograd-filter-grad), otherwise a SIMD kernel generated for
 * the layer's geometry (simd/conv-filter-grad) reading x and dy in place, with
 * no transposes or packing.
 */
import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { ConvGeometry, ConvGradAttrs, convGeometry, filterShape, imageSizes } from '../conv-geometry';
import { Pads } from '../conv-plans';
import { allocF32, asWasm, BackendWasm, heapF32, heapPtr, heapSlack, release, wasmMemory } from './backend';
import { gatherApplies, gatherFilterGrad } from './gather-conv';
import { padImage } from './pad';
import { evenShares, KernelCall, runParts, threadsOf } from './kernel-pool';
import { sumPartials } from './run-conv';
import { convFilterGradModule } from './simd/conv-filter-grad';
import { tileName, WinogradTile } from './simd/winograd';
import {
  winogradFilterGradModule, winogradFilterGradOutputModule, winogradFilterGradScratch, winogradFilterGradTile,
} from './simd/winograd-filter-grad';

interface Attrs extends ConvGradAttrs {
  filterShape: [number, number, number, number];
}

function winogradFilterGrad(wasm: BackendWasm, g: ConvGeometry, tile: WinogradTile, x: TensorInfo, dy: TensorInfo): TensorInfo {
  const pads: Pads = {
    top: g.padTop,
    left: g.padLeft,
    bottom: Math.max(0, g.outHeight + g.filterHeight - 1 - g.inHeight - g.padTop),
    right: Math.max(0, g.outWidth + g.filterWidth - 1 - g.inWidth - g.padLeft),
  };
  const padded = padImage(wasm, x, pads);
  const [, ph, pw] = padded.shape;
  const name = tileName(tile);
  const shares = evenShares(g.batch, threadsOf(wasmMemory(wasm)));
  const scratches: TensorInfo[] = [];
  const partials: TensorInfo[] = [];
  const parts = shares.map((share): KernelCall[] => {
    const part = { ...g, batch: share.count };
    const layout = winogradFilterGradScratch(part, tile);
    const scratch = allocF32(wasm, [layout.total]);
    heapF32(wasm, scratch).fill(0, layout.macc);
    const out = allocF32(wasm, filterShape(g));
    scratches.push(scratch);
    partials.push(out);
    return [
      {
        key: `winograd-dw:${name}:${ph}:${pw}:${JSON.stringify(part)}`,
        generate: () => winogradFilterGradModule(part, tile, ph, pw),
        fn: 'acc',
        args: [heapPtr(wasm, padded) + 4 * share.start * ph * pw * g.inChannels, heapPtr(wasm, dy) + 4 * share.start * imageSizes(g).output, heapPtr(wasm, scratch)],
      },
      {
        key: `winograd-dw-out:${name}:${g.inChannels}:${g.outChannels}`,
        generate: () => winogradFilterGradOutputModule(g.inChannels, g.outChannels, tile),
        fn: 'out',
        args: [heapPtr(wasm, scratch) + 4 * layout.macc, heapPtr(wasm, out)],
      },
    ];
  });
  runParts(wasmMemory(wasm), parts);
  release(wasm, ...scratches);
  if (padded !== x) release(wasm, padded);
  return sumPartials(wasm, partials);
}

const conv2dBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as Attrs;
  const g = convGeometry(x.shape, a.filterShape, a);
  if (gatherApplies(g, 'filter')) return gatherFilterGrad(wasm, g, x, dy);
  const tile = winogradFilterGradTile(g);
  if (tile !== null) return winogradFilterGrad(wasm, g, tile, x, dy);
  const shares = evenShares(g.batch, threadsOf(wasmMemory(wasm)));
  const partials = shares.map(() => allocF32(wasm, filterShape(g)));
  // A masked tail writes back past a partial's end, where another thread may be writing.
  const masked = shares.length === 1 && heapSlack(wasm, partials[0], dy);
  const image = imageSizes(g);
  runParts(wasmMemory(wasm), shares.map((share, i): KernelCall[] => {
    const part = { ...g, batch: share.count };
    return [{
      key: `dw:${masked}:${JSON.stringify(part)}`,
      generate: () => convFilterGradModule(part, masked),
      fn: 'dw',
      args: [heapPtr(wasm, x) + 4 * share.start * image.input, heapPtr(wasm, dy) + 4 * share.start * image.output, heapPtr(wasm, partials[i])],
    }];
  }));
  return sumPartials(wasm, partials);
};

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter,
};
