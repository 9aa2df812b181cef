/** Zero padding of NHWC images on the wasm heap. */
import { TensorInfo } from '@tensorflow/tfjs-core';
import { hasPads, padInto, Pads } from '../conv-plans';
import { allocF32, BackendWasm, heapF32 } from './backend';

/** x [N,H,W,C] zero-padded on each side; x itself when no padding is needed. */
export function padImage(wasm: BackendWasm, x: TensorInfo, pads: Pads): TensorInfo {
  if (!hasPads(pads)) return x;
  const [n, h, w, c] = x.shape;
  const out = allocF32(wasm, [n, h + pads.top + pads.bottom, w + pads.left + pads.right, c]);
  padInto(heapF32(wasm, x), heapF32(wasm, out), x.shape, pads);
  return out;
}
