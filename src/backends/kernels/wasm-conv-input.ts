/**
 * Conv2DBackpropInput for the wasm backend as one forward convolution (the stock
 * kernel is a plain loop, ~10x slower than XNNPACK): dx is dy, with stride-1 zeros
 * inserted between its rows and columns for strided convolutions, convolved with
 * the filter flipped in space and with its in/out channels swapped.
 */
import { backend_util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropInputAttrs } from '@tensorflow/tfjs-core';
import { runKernel, Temporaries, type WasmBackend } from './wasm-ops';

export const conv2DBackpropInputWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  if (info.dataFormat !== 'channelsLast') throw new Error('Conv2DBackpropInput on wasm supports channelsLast only');
  const { batchSize: n, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const wasm = backend as unknown as WasmBackend;
  const temps = new Temporaries(wasm);
  try {
    let grad = dy;
    if (sh > 1 || sw > 1) grad = temps.keep(insertZeros(wasm, dy, n, oh, ow, co, sh, sw));
    const dilatedH = (oh - 1) * sh + 1;
    const dilatedW = (ow - 1) * sw + 1;
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = h - dilatedH - top + kh - 1;
    const right = w - dilatedW - left + kw - 1;
    if (top < 0 || left < 0 || bottom < 0 || right < 0) throw new Error('Conv2DBackpropInput on wasm: unsupported padding');
    const flipped = temps.run('Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = temps.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
    return runKernel('Conv2D', { x: grad, filter: swapped }, { strides: [1, 1], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1] }, backend);
  } finally {
    temps.dispose();
  }
};

/** dy [n, oh, ow, c] -> [n, (oh-1)·sh+1, (ow-1)·sw+1, c] with dy at every sh-th row and sw-th column. */
function insertZeros(backend: WasmBackend, dy: TensorInfo, n: number, oh: number, ow: number, c: number, sh: number, sw: number): TensorInfo {
  const dh = (oh - 1) * sh + 1;
  const dw = (ow - 1) * sw + 1;
  const out = backend.makeOutput([n, dh, dw, c], 'float32');
  const dst = backend.typedArrayFromHeap(out);
  const src = backend.typedArrayFromHeap(dy);
  dst.fill(0);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const from = ((b * oh + y) * ow + x) * c;
        dst.set(src.subarray(from, from + c), ((b * dh + y * sh) * dw + x * sw) * c);
      }
    }
  }
  return out;
}

export const conv2DBackpropInputWasmConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInputWasm,
};
