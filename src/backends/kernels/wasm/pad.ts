/** Zero padding of NHWC images on the wasm heap, and the PadV2 kernel built on it. */
import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { hasPads, Pads, spatialPads } from '../conv-plans';
import { stockKernel } from '../register';
import { allocF32, asWasm, BackendWasm, heapPtr, wasmMemory } from './backend';
import { MIN_SHARE_FLOATS, runSplit } from './kernel-pool';
import { padModule } from './simd/pad';

/** x [N,H,W,C] zero-padded on each side (generated row copies, simd/pad, split by images over the kernel threads); x itself when no padding is needed. */
export function padImage(wasm: BackendWasm, x: TensorInfo, pads: Pads): TensorInfo {
  if (!hasPads(pads)) return x;
  const [n, h, w, c] = x.shape;
  const paddedHeight = h + pads.top + pads.bottom;
  const paddedWidth = w + pads.left + pads.right;
  const out = allocF32(wasm, [n, paddedHeight, paddedWidth, c]);
  const pixel = 4 * c;
  const [srcImage, dstImage] = [h * w * pixel, paddedHeight * paddedWidth * pixel];
  const borders = [pads.left * pixel, pads.right * pixel, pads.top * paddedWidth * pixel, pads.bottom * paddedWidth * pixel];
  runSplit(wasmMemory(wasm), n, Math.max(1, Math.ceil(MIN_SHARE_FLOATS / (dstImage / 4))), (start, count) => ({
    key: 'pad',
    generate: padModule,
    fn: 'pad',
    args: [heapPtr(wasm, x) + start * srcImage, heapPtr(wasm, out) + start * dstImage, count, h, w * pixel, ...borders],
  }));
  return out;
}

/**
 * PadV2 of an NHWC float32 tensor with zeros around the spatial axes only
 * (zeroPadding2d), in row copies; 2.5x faster than the stock kernel. Other
 * paddings go to the stock kernel.
 */
const padV2: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { paddings, constantValue } = args.attrs as unknown as { paddings: [number, number][]; constantValue: number };
  const pads = spatialPads(x, paddings, constantValue);
  if (pads === null) return stockKernel('PadV2', 'wasm')(args);
  const wasm = asWasm(args.backend);
  const out = padImage(wasm, x, pads);
  if (out === x) {
    wasm.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  }
  return out;
};

export const padV2Config: KernelConfig = { kernelName: 'PadV2', backendName: 'wasm', kernelFunc: padV2 };
