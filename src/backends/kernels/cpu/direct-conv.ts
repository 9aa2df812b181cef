/**
 * A direct convolution (DirectConvSpec in ../conv-plans) in plain JS over
 * typed arrays: register tiles of 4 output pixels x 4 output channels (16
 * accumulators in locals), looping over taps and input channels, the weights
 * of the tile's channels staying in L1 while the tiles of a row go by.
 */
import { DirectConvSpec } from '../conv-plans';

export interface DirectConvArrays {
  input: Float32Array;
  weights: Float32Array;
  /** Offset (in floats) of the first weight used. */
  weightOffset: number;
  bias: Float32Array | null;
  out: Float32Array;
  /** Offset (in floats) of the first output pixel written. */
  outOffset: number;
}

export function directConv(s: DirectConvSpec, a: DirectConvArrays): void {
  const { input, weights: w, bias, out } = a;
  const K = s.inChannels;
  const M = s.outChannels;
  const tapOffsets = s.taps.map((t) => (t.dh * s.inWidth + t.dw) * K);
  const pixelStride = s.strideWidth * K;
  for (let n = 0; n < s.batch; n++) {
    const inImg = n * s.inHeight * s.inWidth * K;
    const outImg = a.outOffset + n * s.outImageStride;
    for (let row = 0; row < s.outRows; row++) {
      const inRow = inImg + row * s.strideHeight * s.inWidth * K;
      const outRow = outImg + row * s.outRowStride;
      for (let m0 = 0; m0 < M; m0 += 4) {
        const mc = Math.min(4, M - m0);
        for (let b0 = 0; b0 < s.outCols; b0 += 4) {
          const bc = Math.min(4, s.outCols - b0);
          const x0 = inRow + b0 * pixelStride;
          const o0 = outRow + b0 * s.outColStride + m0;
          const w0 = a.weightOffset + m0;
          if (mc === 4 && bc === 4) tile4x4(s, input, w, bias, out, x0, w0, o0, m0, tapOffsets);
          else tileAny(s, input, w, bias, out, x0, w0, o0, m0, bc, mc, tapOffsets);
        }
      }
    }
  }
}

function tile4x4(
  s: DirectConvSpec, x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array,
  xBase: number, wBase: number, oBase: number, m0: number, tapOffsets: number[],
): void {
  const K = s.inChannels;
  const M = s.outChannels;
  const ps = s.strideWidth * K;
  const b0 = bias === null ? 0 : bias[m0];
  const b1 = bias === null ? 0 : bias[m0 + 1];
  const b2 = bias === null ? 0 : bias[m0 + 2];
  const b3 = bias === null ? 0 : bias[m0 + 3];
  let a00 = b0, a01 = b1, a02 = b2, a03 = b3;
  let a10 = b0, a11 = b1, a12 = b2, a13 = b3;
  let a20 = b0, a21 = b1, a22 = b2, a23 = b3;
  let a30 = b0, a31 = b1, a32 = b2, a33 = b3;
  for (let t = 0; t < tapOffsets.length; t++) {
    let xp = xBase + tapOffsets[t];
    let wp = wBase + t * K * M;
    for (let k = 0; k < K; k++, xp++, wp += M) {
      const x0 = x[xp], x1 = x[xp + ps], x2 = x[xp + 2 * ps], x3 = x[xp + 3 * ps];
      const w0 = w[wp], w1 = w[wp + 1], w2 = w[wp + 2], w3 = w[wp + 3];
      a00 += x0 * w0; a01 += x0 * w1; a02 += x0 * w2; a03 += x0 * w3;
      a10 += x1 * w0; a11 += x1 * w1; a12 += x1 * w2; a13 += x1 * w3;
      a20 += x2 * w0; a21 += x2 * w1; a22 += x2 * w2; a23 += x2 * w3;
      a30 += x3 * w0; a31 += x3 * w1; a32 += x3 * w2; a33 += x3 * w3;
    }
  }
  const cs = s.outColStride;
  const r = s.relu;
  const put = (i: number, v: number) => { out[i] = r && v < 0 ? 0 : v; };
  put(oBase, a00); put(oBase + 1, a01); put(oBase + 2, a02); put(oBase + 3, a03);
  put(oBase + cs, a10); put(oBase + cs + 1, a11); put(oBase + cs + 2, a12); put(oBase + cs + 3, a13);
  put(oBase + 2 * cs, a20); put(oBase + 2 * cs + 1, a21); put(oBase + 2 * cs + 2, a22); put(oBase + 2 * cs + 3, a23);
  put(oBase + 3 * cs, a30); put(oBase + 3 * cs + 1, a31); put(oBase + 3 * cs + 2, a32); put(oBase + 3 * cs + 3, a33);
}

/** Edge tiles (fewer than 4 pixels or channels): 4 pixels x 1 channel, 1 pixel x 4 channels, or 1 x 1. */
function tileAny(
  s: DirectConvSpec, x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array,
  xBase: number, wBase: number, oBase: number, m0: number, bc: number, mc: number, tapOffsets: number[],
): void {
  const ps = s.strideWidth * s.inChannels;
  if (bc === 4) {
    for (let j = 0; j < mc; j++) tile4x1(s, x, w, bias, out, xBase, wBase + j, oBase + j, m0 + j, tapOffsets);
    return;
  }
  for (let p = 0; p < bc; p++) {
    const xp = xBase + p * ps;
    const op = oBase + p * s.outColStride;
    if (mc === 4) tile1x4(s, x, w, bias, out, xp, wBase, op, m0, tapOffsets);
    else for (let j = 0; j < mc; j++) tile1x1(s, x, w, bias, out, xp, wBase + j, op + j, m0 + j, tapOffsets);
  }
}

function tile4x1(
  s: DirectConvSpec, x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array,
  xBase: number, wBase: number, oBase: number, m: number, tapOffsets: number[],
): void {
  const K = s.inChannels;
  const M = s.outChannels;
  const ps = s.strideWidth * K;
  const b = bias === null ? 0 : bias[m];
  let a0 = b, a1 = b, a2 = b, a3 = b;
  for (let t = 0; t < tapOffsets.length; t++) {
    let xp = xBase + tapOffsets[t];
    let wp = wBase + t * K * M;
    for (let k = 0; k < K; k++, xp++, wp += M) {
      const wv = w[wp];
      a0 += x[xp] * wv; a1 += x[xp + ps] * wv; a2 += x[xp + 2 * ps] * wv; a3 += x[xp + 3 * ps] * wv;
    }
  }
  const cs = s.outColStride;
  const r = s.relu;
  out[oBase] = r && a0 < 0 ? 0 : a0;
  out[oBase + cs] = r && a1 < 0 ? 0 : a1;
  out[oBase + 2 * cs] = r && a2 < 0 ? 0 : a2;
  out[oBase + 3 * cs] = r && a3 < 0 ? 0 : a3;
}

function tile1x4(
  s: DirectConvSpec, x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array,
  xBase: number, wBase: number, oBase: number, m0: number, tapOffsets: number[],
): void {
  const K = s.inChannels;
  const M = s.outChannels;
  let a0 = bias === null ? 0 : bias[m0];
  let a1 = bias === null ? 0 : bias[m0 + 1];
  let a2 = bias === null ? 0 : bias[m0 + 2];
  let a3 = bias === null ? 0 : bias[m0 + 3];
  for (let t = 0; t < tapOffsets.length; t++) {
    let xp = xBase + tapOffsets[t];
    let wp = wBase + t * K * M;
    for (let k = 0; k < K; k++, xp++, wp += M) {
      const xv = x[xp];
      a0 += xv * w[wp]; a1 += xv * w[wp + 1]; a2 += xv * w[wp + 2]; a3 += xv * w[wp + 3];
    }
  }
  const r = s.relu;
  out[oBase] = r && a0 < 0 ? 0 : a0;
  out[oBase + 1] = r && a1 < 0 ? 0 : a1;
  out[oBase + 2] = r && a2 < 0 ? 0 : a2;
  out[oBase + 3] = r && a3 < 0 ? 0 : a3;
}

function tile1x1(
  s: DirectConvSpec, x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array,
  xBase: number, wBase: number, oBase: number, m: number, tapOffsets: number[],
): void {
  const K = s.inChannels;
  const M = s.outChannels;
  let a = bias === null ? 0 : bias[m];
  for (let t = 0; t < tapOffsets.length; t++) {
    let xp = xBase + tapOffsets[t];
    let wp = wBase + t * K * M;
    for (let k = 0; k < K; k++, xp++, wp += M) a += x[xp] * w[wp];
  }
  out[oBase] = s.relu && a < 0 ? 0 : a;
}
