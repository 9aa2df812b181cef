/**
 * Conv2DBackpropFilter for the wasm backend, computed by the backend's own
 * XNNPACK Conv2D:
 *
 *   dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[n,oh,ow,co]
 *
 * is a convolution whose "batch" is the input channel (x as [Ci,H,W,N]) and
 * whose filter is dy (as [OH,OW,N,Co]), dilated by the forward stride. Its
 * output [Ci,KH,KW,Co] is transposed to [KH,KW,Ci,Co].
 */
import { Conv2D, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { ConvGradAttrs, convGeometry } from '../conv-geometry';
import { allocF32, asWasm, heapF32, release, runWasmKernel } from './backend';

interface Attrs extends ConvGradAttrs {
  filterShape: [number, number, number, number];
}

const conv2dBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as Attrs;
  const g = convGeometry(x.shape, a.filterShape, a);
  const { batch: n, inChannels: ci, outChannels: co, outHeight: oh, outWidth: ow } = g;
  const kh = g.filterHeight;
  const kw = g.filterWidth;

  // Input rows/columns the forward pass read; trailing ones it skipped are cropped
  // and missing ones are padded, so the dilated convolution yields exactly KH x KW.
  const spanH = (oh - 1) * g.strideHeight + kh - g.padTop;
  const spanW = (ow - 1) * g.strideWidth + kw - g.padLeft;
  const h = Math.min(g.inHeight, spanH);
  const w = Math.min(g.inWidth, spanW);

  const xt = allocF32(wasm, [ci, h, w, n]);
  const dyt = allocF32(wasm, [oh, ow, n, co]);
  transposeInput(heapF32(wasm, x), heapF32(wasm, xt), n, g.inHeight, g.inWidth, ci, h, w);
  transposeOutputGrad(heapF32(wasm, dy), heapF32(wasm, dyt), n, oh * ow, co);

  const r = runWasmKernel(wasm, Conv2D, { x: xt, filter: dyt }, {
    strides: [1, 1],
    dilations: [g.strideHeight, g.strideWidth],
    pad: [[0, 0], [g.padTop, spanH - h], [g.padLeft, spanW - w], [0, 0]],
    dataFormat: 'NHWC',
  });
  release(wasm, xt, dyt);

  const out = allocF32(wasm, [kh, kw, ci, co]);
  swapOuterPair(heapF32(wasm, r), heapF32(wasm, out), ci, kh * kw, co);
  release(wasm, r);
  return out;
};

/** x [N,H,W,C] (first h rows, w columns) -> [C,h,w,N]. */
function transposeInput(
  src: Float32Array, dst: Float32Array, n: number, srcH: number, srcW: number, c: number, h: number, w: number,
): void {
  const pixels = h * w;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      let s = ((b * srcH + y) * srcW) * c;
      let p = y * w;
      for (let x = 0; x < w; x++, p++) {
        let d = p * n + b;
        for (let ch = 0; ch < c; ch++, d += pixels * n) dst[d] = src[s++];
      }
    }
  }
}

/** dy [N,P,C] -> [P,N,C]. */
function transposeOutputGrad(src: Float32Array, dst: Float32Array, n: number, p: number, c: number): void {
  for (let b = 0; b < n; b++) {
    for (let q = 0; q < p; q++) {
      const s = (b * p + q) * c;
      const d = (q * n + b) * c;
      for (let k = 0; k < c; k++) dst[d + k] = src[s + k];
    }
  }
}

/** [A,B,C] -> [B,A,C]. */
function swapOuterPair(src: Float32Array, dst: Float32Array, a: number, b: number, c: number): void {
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      const s = (i * b + j) * c;
      const d = (j * a + i) * c;
      for (let k = 0; k < c; k++) dst[d + k] = src[s + k];
    }
  }
}

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter,
};
