/**
 * Conv2DBackpropInput for the wasm backend (the stock kernel is a plain loop, ~10x
 * slower than XNNPACK). For stride 1, one XNNPACK convolution: dy convolved with the
 * filter flipped in space and with its in/out channels swapped. For larger strides
 * that convolution would need zeros inserted into dy (4x the work at stride 2), so
 * mtl's SIMD kernel scatters each output gradient to the inputs it came from instead.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { forwardConvInfo } from './conv-info';
import type { Conv2DBackpropInputAttrs } from '@tensorflow/tfjs-core';
import { runKernel, Temporaries, type WasmBackend } from './wasm-ops';
import { heapOffset, simdKernels, type WasmHeapBackend } from './simd';

export const conv2DBackpropInputWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
  const info = forwardConvInfo('Conv2DBackpropInput on wasm', inputShape, filter.shape as [number, number, number, number], attrs as unknown as Conv2DBackpropInputAttrs);
  const { batchSize: n, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const wasm = backend as unknown as WasmBackend;
  const temps = new Temporaries(wasm);
  try {
    if (sh > 1 || sw > 1) {
      const heap = backend as unknown as WasmHeapBackend;
      const wt = temps.run('Transpose', { x: filter }, { perm: [0, 1, 3, 2] });
      const dx = heap.makeOutput(inputShape, 'float32');
      simdKernels(heap).conv2d_input_grad(
        heapOffset(heap, dy), heapOffset(heap, wt), heapOffset(heap, dx),
        n, h, w, info.inChannels, oh, ow, co, kh, kw, sh, sw, info.padInfo.top, info.padInfo.left,
      );
      return dx;
    }
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = h - oh - top + kh - 1;
    const right = w - ow - left + kw - 1;
    if (top < 0 || left < 0 || bottom < 0 || right < 0) throw new Error('Conv2DBackpropInput on wasm: unsupported padding');
    const flipped = temps.run('Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = temps.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
    return runKernel('Conv2D', { x: dy, filter: swapped }, { strides: [1, 1], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1] }, backend);
  } finally {
    temps.dispose();
  }
};

export const conv2DBackpropInputWasmConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInputWasm,
};
