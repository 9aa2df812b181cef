/**
 * The convolution filter gradient in plain JS over NHWC typed arrays:
 *
 *   dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[n,oh,ow,co]
 *
 * For each image and each chunk of output rows (small enough to stay in
 * cache), for each tap, 4x4 tiles of (ci, co) accumulate in locals over the
 * chunk's pixels: 8 loads per 16 multiply-adds, no im2col buffer.
 */
import { ConvGeometry } from '../conv-geometry';

/** Valid [lo, hi) output positions whose input tap k lands inside [0, size). */
function validRange(out: number, stride: number, pad: number, k: number, size: number): [number, number] {
  const lo = Math.max(0, Math.ceil((pad - k) / stride));
  const hi = Math.min(out, Math.floor((size - 1 + pad - k) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}

export function convFilterGrad(g: ConvGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array): void {
  const { inChannels: ci, outChannels: co, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = g;
  const sh = g.strideHeight;
  const sw = g.strideWidth;
  dw.fill(0);
  const rowBytes = 4 * (ow * co + sh * w * ci);
  const chunk = Math.max(1, Math.min(oh, Math.floor(65536 / rowBytes)));
  const rangesH = Array.from({ length: g.filterHeight }, (_, kh) => validRange(oh, sh, g.padTop, kh, h));
  const rangesW = Array.from({ length: g.filterWidth }, (_, kw) => validRange(ow, sw, g.padLeft, kw, w));
  const geo: TileGeometry = { ci, co, xRowStride: sh * w * ci, xColStride: sw * ci, dyRowStride: ow * co };
  for (let n = 0; n < g.batch; n++) {
    const xImg = n * h * w * ci;
    const dyImg = n * oh * ow * co;
    for (let c0 = 0; c0 < oh; c0 += chunk) {
      const c1 = Math.min(oh, c0 + chunk);
      for (let kh = 0; kh < g.filterHeight; kh++) {
        const lo = Math.max(c0, rangesH[kh][0]);
        const rows = Math.min(c1, rangesH[kh][1]) - lo;
        if (rows <= 0) continue;
        for (let kw = 0; kw < g.filterWidth; kw++) {
          const [owLo, owHi] = rangesW[kw];
          const cols = owHi - owLo;
          if (cols <= 0) continue;
          const xStart = xImg + ((lo * sh + kh - g.padTop) * w + owLo * sw + kw - g.padLeft) * ci;
          const dyStart = dyImg + (lo * ow + owLo) * co;
          const dwTap = (kh * g.filterWidth + kw) * ci * co;
          for (let i = 0; i < ci; i += 4) {
            for (let o = 0; o < co; o += 4) {
              const xp = xStart + i;
              const dp = dyStart + o;
              const wp = dwTap + i * co + o;
              if (i + 4 <= ci && o + 4 <= co) tile4x4(geo, x, dy, dw, xp, dp, wp, rows, cols);
              else tileAny(geo, x, dy, dw, xp, dp, wp, rows, cols, Math.min(4, ci - i), Math.min(4, co - o));
            }
          }
        }
      }
    }
  }
}

interface TileGeometry {
  ci: number;
  co: number;
  xRowStride: number;
  xColStride: number;
  dyRowStride: number;
}

function tile4x4(
  g: TileGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array,
  xStart: number, dyStart: number, wp: number, rows: number, cols: number,
): void {
  const co = g.co;
  let a00 = dw[wp], a01 = dw[wp + 1], a02 = dw[wp + 2], a03 = dw[wp + 3];
  let a10 = dw[wp + co], a11 = dw[wp + co + 1], a12 = dw[wp + co + 2], a13 = dw[wp + co + 3];
  let a20 = dw[wp + 2 * co], a21 = dw[wp + 2 * co + 1], a22 = dw[wp + 2 * co + 2], a23 = dw[wp + 2 * co + 3];
  let a30 = dw[wp + 3 * co], a31 = dw[wp + 3 * co + 1], a32 = dw[wp + 3 * co + 2], a33 = dw[wp + 3 * co + 3];
  for (let r = 0; r < rows; r++) {
    let xp = xStart + r * g.xRowStride;
    let dp = dyStart + r * g.dyRowStride;
    for (let c = 0; c < cols; c++, xp += g.xColStride, dp += co) {
      const x0 = x[xp], x1 = x[xp + 1], x2 = x[xp + 2], x3 = x[xp + 3];
      const d0 = dy[dp], d1 = dy[dp + 1], d2 = dy[dp + 2], d3 = dy[dp + 3];
      a00 += x0 * d0; a01 += x0 * d1; a02 += x0 * d2; a03 += x0 * d3;
      a10 += x1 * d0; a11 += x1 * d1; a12 += x1 * d2; a13 += x1 * d3;
      a20 += x2 * d0; a21 += x2 * d1; a22 += x2 * d2; a23 += x2 * d3;
      a30 += x3 * d0; a31 += x3 * d1; a32 += x3 * d2; a33 += x3 * d3;
    }
  }
  dw[wp] = a00; dw[wp + 1] = a01; dw[wp + 2] = a02; dw[wp + 3] = a03;
  dw[wp + co] = a10; dw[wp + co + 1] = a11; dw[wp + co + 2] = a12; dw[wp + co + 3] = a13;
  dw[wp + 2 * co] = a20; dw[wp + 2 * co + 1] = a21; dw[wp + 2 * co + 2] = a22; dw[wp + 2 * co + 3] = a23;
  dw[wp + 3 * co] = a30; dw[wp + 3 * co + 1] = a31; dw[wp + 3 * co + 2] = a32; dw[wp + 3 * co + 3] = a33;
}

/** Edge tiles (fewer than 4 input or output channels): one input channel x 4 outputs, or 1 x 1. */
function tileAny(
  g: TileGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array,
  xStart: number, dyStart: number, wp: number, rows: number, cols: number, ni: number, no: number,
): void {
  for (let i = 0; i < ni; i++) {
    if (no === 4) {
      tile1x4(g, x, dy, dw, xStart + i, dyStart, wp + i * g.co, rows, cols);
      continue;
    }
    for (let o = 0; o < no; o++) tile1x1(g, x, dy, dw, xStart + i, dyStart + o, wp + i * g.co + o, rows, cols);
  }
}

function tile1x4(
  g: TileGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array,
  xStart: number, dyStart: number, wp: number, rows: number, cols: number,
): void {
  let a0 = dw[wp], a1 = dw[wp + 1], a2 = dw[wp + 2], a3 = dw[wp + 3];
  for (let r = 0; r < rows; r++) {
    let xp = xStart + r * g.xRowStride;
    let dp = dyStart + r * g.dyRowStride;
    for (let c = 0; c < cols; c++, xp += g.xColStride, dp += g.co) {
      const xv = x[xp];
      a0 += xv * dy[dp]; a1 += xv * dy[dp + 1]; a2 += xv * dy[dp + 2]; a3 += xv * dy[dp + 3];
    }
  }
  dw[wp] = a0; dw[wp + 1] = a1; dw[wp + 2] = a2; dw[wp + 3] = a3;
}

function tile1x1(
  g: TileGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array,
  xStart: number, dyStart: number, wp: number, rows: number, cols: number,
): void {
  let a = dw[wp];
  for (let r = 0; r < rows; r++) {
    let xp = xStart + r * g.xRowStride;
    let dp = dyStart + r * g.dyRowStride;
    for (let c = 0; c < cols; c++, xp += g.xColStride, dp += g.co) a += x[xp] * dy[dp];
  }
  dw[wp] = a;
}
