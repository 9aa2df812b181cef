/**
 * Conv2DBackpropInput for the wasm backend, computed by the backend's own
 * XNNPACK Conv2D: dx is the stride-1 convolution of dy (with s-1 zeros inserted
 * between rows and columns for stride s) with the filter flipped in space and
 * its in/out channels swapped, padded by KH-1-padTop on top.
 */
import { Conv2D, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { ConvGradAttrs, ConvGeometry, convGeometry } from '../conv-geometry';
import { allocF32, asWasm, BackendWasm, heapF32, release, runWasmKernel } from './backend';

interface Attrs extends ConvGradAttrs {
  inputShape: [number, number, number, number];
}

const conv2dBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as Attrs;
  const g = convGeometry(a.inputShape, filter.shape, a);
  const kh = g.filterHeight;
  const kw = g.filterWidth;

  const zh = (g.outHeight - 1) * g.strideHeight + 1;
  const zw = (g.outWidth - 1) * g.strideWidth + 1;
  const top = kh - 1 - g.padTop;
  const left = kw - 1 - g.padLeft;
  const bottom = g.inHeight + kh - 1 - zh - top;
  const right = g.inWidth + kw - 1 - zw - left;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) {
    throw new Error(`mtl Conv2DBackpropInput: unsupported padding ${JSON.stringify(a.pad)} for filter ${kh}x${kw}`);
  }

  const wf = allocF32(wasm, [kh, kw, g.outChannels, g.inChannels]);
  flipFilter(heapF32(wasm, filter), heapF32(wasm, wf), kh * kw, g.inChannels, g.outChannels);
  const dyz = zh === g.outHeight && zw === g.outWidth ? dy : insertZeros(wasm, dy, g, zh, zw);

  const out = runWasmKernel(wasm, Conv2D, { x: dyz, filter: wf }, {
    strides: [1, 1],
    dilations: [1, 1],
    pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
    dataFormat: 'NHWC',
  });
  release(wasm, wf);
  if (dyz !== dy) release(wasm, dyz);
  return out;
};

/** w [K,Ci,Co] -> [K,Co,Ci] with the K (spatial) axis reversed. */
function flipFilter(src: Float32Array, dst: Float32Array, k: number, ci: number, co: number): void {
  for (let t = 0; t < k; t++) {
    const s0 = (k - 1 - t) * ci * co;
    const d0 = t * ci * co;
    for (let i = 0; i < ci; i++) {
      for (let o = 0; o < co; o++) dst[d0 + o * ci + i] = src[s0 + i * co + o];
    }
  }
}

/** dy [N,OH,OW,C] -> [N,zh,zw,C] with dy at every stride-th row and column, zeros elsewhere. */
function insertZeros(wasm: BackendWasm, dy: TensorInfo, g: ConvGeometry, zh: number, zw: number): TensorInfo {
  const c = g.outChannels;
  const out = allocF32(wasm, [g.batch, zh, zw, c]);
  const src = heapF32(wasm, dy);
  const dst = heapF32(wasm, out);
  dst.fill(0);
  for (let b = 0; b < g.batch; b++) {
    for (let y = 0; y < g.outHeight; y++) {
      const s = ((b * g.outHeight + y) * g.outWidth) * c;
      const d = ((b * zh + y * g.strideHeight) * zw) * c;
      for (let x = 0; x < g.outWidth; x++) {
        const sx = s + x * c;
        const dx = d + x * g.strideWidth * c;
        for (let k = 0; k < c; k++) dst[dx + k] = src[sx + k];
      }
    }
  }
  return out;
}

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput,
};
