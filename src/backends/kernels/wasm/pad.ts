/** Zero padding of NHWC images on the wasm heap. */
import { TensorInfo } from '@tensorflow/tfjs-core';
import { allocF32, BackendWasm, heapF32 } from './backend';

/** x [N,H,W,C] zero-padded on each side; x itself when no padding is needed. */
export function padImage(
  wasm: BackendWasm, x: TensorInfo, top: number, bottom: number, left: number, right: number,
): TensorInfo {
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return x;
  const [n, h, w, c] = x.shape;
  const ph = h + top + bottom;
  const pw = w + left + right;
  const out = allocF32(wasm, [n, ph, pw, c]);
  const src = heapF32(wasm, x);
  const dst = heapF32(wasm, out);
  dst.fill(0);
  const rowLen = w * c;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      const s = (b * h + y) * rowLen;
      dst.set(src.subarray(s, s + rowLen), ((b * ph + y + top) * pw + left) * c);
    }
  }
  return out;
}

