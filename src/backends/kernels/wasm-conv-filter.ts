/**
 * Conv2DBackpropFilter for the wasm backend (stock tfjs has none), expressed as
 * one forward convolution so XNNPACK does the work:
 *
 *   dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·s + kh − pad, ow·s + kw − pad, ci] · dy[n, oh, ow, co]
 *
 * is a convolution whose "batch" is the input channel (x as [Ci, H, W, N]), whose
 * filter is dy (as [OH, OW, N, Co]) dilated by the forward stride, and whose output
 * [Ci, KH, KW, Co] is dW transposed.
 */
import { backend_util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { runKernel, Temporaries, type WasmBackend } from './wasm-ops';
import type { Conv2DBackpropFilterAttrs } from '@tensorflow/tfjs-core';

export const conv2DBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  if (info.dataFormat !== 'channelsLast') throw new Error('Conv2DBackpropFilter on wasm supports channelsLast only');
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Padding that makes the output exactly kh x kw; negative means the last rows/columns never met the filter.
  const bottom = kh + sh * (oh - 1) - h - top;
  const right = kw + sw * (ow - 1) - w - left;
  const temps = new Temporaries(backend as unknown as WasmBackend);
  try {
    let xt = temps.run('Transpose', { x }, { perm: [3, 1, 2, 0] });
    if (bottom < 0 || right < 0) {
      xt = temps.run('Slice', { x: xt }, { begin: [0, 0, 0, 0], size: [xt.shape[0], h + Math.min(0, bottom), w + Math.min(0, right), xt.shape[3]] });
    }
    const dyt = temps.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
    const conv = temps.run(
      'Conv2D',
      { x: xt, filter: dyt },
      { strides: [1, 1], pad: [[0, 0], [top, Math.max(0, bottom)], [left, Math.max(0, right)], [0, 0]], dataFormat: 'NHWC', dilations: [sh, sw] },
    );
    return runKernel('Transpose', { x: conv }, { perm: [1, 2, 0, 3] }, backend);
  } finally {
    temps.dispose();
  }
};

export const conv2DBackpropFilterWasmConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterWasm,
};
