/**
 * Backend-agnostic plans that reduce Conv2D and Conv2DBackpropInput to direct
 * convolutions over zero-padded NHWC inputs (DirectConvSpec), executed by the
 * wasm SIMD generator or the plain-JS loops of the cpu backend.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import { ConvGeometry } from './conv-geometry';

/**
 *   out[n, a, b, m] = bias[m] + sum_t sum_k in[n, a*sh + dh_t, b*sw + dw_t, k] * w[t, k, m]
 * over an input that is already zero-padded (no bounds checks), the output written
 * at arbitrary row/column strides (one stride phase of a transposed convolution).
 */
export interface DirectConvSpec {
  batch: number;
  /** Padded input, NHWC. */
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outRows: number;
  outCols: number;
  outChannels: number;
  strideHeight: number;
  strideWidth: number;
  /** Tap offsets in input pixels, in the order of the weights' first axis. */
  taps: { dh: number; dw: number }[];
  /** Output addressing, in floats. */
  outImageStride: number;
  outRowStride: number;
  outColStride: number;
  bias: boolean;
  relu: boolean;
  /**
   * (wasm) Compute the last (C mod 4) output channels as a full vector stored
   * through a lane mask (read, select, write back) instead of as scalars. The
   * 16-byte accesses reach up to 12 bytes past the output, weights and bias, so
   * callers enable this only when the wasm memory extends that far.
   */
  maskedTail?: boolean;
  /** (wasm) Register tile: output pixels, and f32x4 vectors of output channels. */
  tilePixels?: number;
  tileVectors?: number;
}

/** Zero padding on each side of the two spatial axes. */
export interface Pads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

export const hasPads = (p: Pads): boolean => p.top + p.bottom + p.left + p.right > 0;

/** The spatial pads of a PadV2 that zero-pads a float32 NHWC tensor on axes 1 and 2 only, else null. */
export function spatialPads(
  x: { shape: number[]; dtype: string }, paddings: [number, number][], constantValue: number,
): Pads | null {
  if (x.dtype !== 'float32' || x.shape.length !== 4 || constantValue !== 0) return null;
  if (paddings.some(([a, b]) => a < 0 || b < 0) || paddings[0].some((p) => p !== 0) || paddings[3].some((p) => p !== 0)) return null;
  if (x.shape.some((d) => d === 0)) return null;
  return { top: paddings[1][0], bottom: paddings[1][1], left: paddings[2][0], right: paddings[2][1] };
}

/** x [N,H,W,C] into dst [N,H+top+bottom,W+left+right,C], zeros around. */
export function padInto(src: Float32Array, dst: Float32Array, shape: number[], p: Pads): void {
  const [n, h, w, c] = shape;
  const ph = h + p.top + p.bottom;
  const pw = w + p.left + p.right;
  const rowLen = w * c;
  for (let b = 0; b < n; b++) {
    const img = b * ph * pw * c;
    dst.fill(0, img, img + (p.top * pw + p.left) * c);
    for (let y = 0; y < h; y++) {
      const s = (b * h + y) * rowLen;
      const d = img + ((y + p.top) * pw + p.left) * c;
      dst.set(src.subarray(s, s + rowLen), d);
      // the right border of this row and the left border of the next (or the bottom rows)
      dst.fill(0, d + rowLen, y + 1 < h ? d + pw * c : img + ph * pw * c);
    }
  }
}

/** The forward convolution: pads for x and the direct convolution over the padded x. */
export function forwardPlan(info: backend_util.Conv2DInfo, bias: boolean, relu: boolean): { pads: Pads; spec: DirectConvSpec } {
  const pads: Pads = {
    top: info.padInfo.top,
    left: info.padInfo.left,
    bottom: Math.max(0, (info.outHeight - 1) * info.strideHeight + info.effectiveFilterHeight - info.inHeight - info.padInfo.top),
    right: Math.max(0, (info.outWidth - 1) * info.strideWidth + info.effectiveFilterWidth - info.inWidth - info.padInfo.left),
  };
  const taps: DirectConvSpec['taps'] = [];
  for (let kh = 0; kh < info.filterHeight; kh++) {
    for (let kw = 0; kw < info.filterWidth; kw++) taps.push({ dh: kh * info.dilationHeight, dw: kw * info.dilationWidth });
  }
  const spec: DirectConvSpec = {
    batch: info.batchSize,
    inHeight: info.inHeight + pads.top + pads.bottom,
    inWidth: info.inWidth + pads.left + pads.right,
    inChannels: info.inChannels,
    outRows: info.outHeight,
    outCols: info.outWidth,
    outChannels: info.outChannels,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    taps,
    outImageStride: info.outHeight * info.outWidth * info.outChannels,
    outRowStride: info.outWidth * info.outChannels,
    outColStride: info.outChannels,
    bias,
    relu,
  };
  return { pads, spec };
}

/** One stride phase of the input gradient. */
export interface InputGradPhase {
  spec: DirectConvSpec;
  /** Offsets (in floats) of this phase's weights and of its first output pixel. */
  weightOffset: number;
  outOffset: number;
}

/**
 * Conv2DBackpropInput as direct convolutions, one per stride phase: the input
 * pixels with (ih mod sh, iw mod sw) = (ph, pw) receive gradient only from the
 * taps kh = ph + pt (mod sh), kw = pw + pl (mod sw), and for them dx is a
 * stride-1 correlation of zero-padded dy with those taps' weights, channels
 * swapped. No zeros are inserted, so stride 2 costs no more than stride 1.
 */
export interface InputGradPlan {
  /** Zero padding of dy. */
  pads: Pads;
  phases: InputGradPhase[];
  /** Filter taps in phase order, as indices kh * KW + kw. */
  tapOrder: number[];
  /** Some input pixels get no gradient at all (dx must be zeroed first). */
  zeroFirst: boolean;
}

const mod = (a: number, m: number): number => ((a % m) + m) % m;

interface RawPhase {
  ph: number;
  pw: number;
  rows: number;
  cols: number;
  taps: { kh: number; kw: number; oh: number; ow: number }[];
}

export function inputGradPlan(g: ConvGeometry): InputGradPlan {
  const raw: RawPhase[] = [];
  for (let ph = 0; ph < g.strideHeight; ph++) {
    for (let pw = 0; pw < g.strideWidth; pw++) {
      const rows = Math.ceil((g.inHeight - ph) / g.strideHeight);
      const cols = Math.ceil((g.inWidth - pw) / g.strideWidth);
      if (rows <= 0 || cols <= 0) continue;
      const taps: RawPhase['taps'] = [];
      for (let kh = mod(ph + g.padTop, g.strideHeight); kh < g.filterHeight; kh += g.strideHeight) {
        for (let kw = mod(pw + g.padLeft, g.strideWidth); kw < g.filterWidth; kw += g.strideWidth) {
          taps.push({ kh, kw, oh: (ph + g.padTop - kh) / g.strideHeight, ow: (pw + g.padLeft - kw) / g.strideWidth });
        }
      }
      raw.push({ ph, pw, rows, cols, taps });
    }
  }
  const pads: Pads = { top: 0, bottom: 0, left: 0, right: 0 };
  for (const p of raw) {
    for (const t of p.taps) {
      pads.top = Math.max(pads.top, -t.oh);
      pads.left = Math.max(pads.left, -t.ow);
      pads.bottom = Math.max(pads.bottom, p.rows - 1 + t.oh - (g.outHeight - 1));
      pads.right = Math.max(pads.right, p.cols - 1 + t.ow - (g.outWidth - 1));
    }
  }
  const ci = g.inChannels;
  const co = g.outChannels;
  const tapOrder: number[] = [];
  const phases: InputGradPhase[] = [];
  for (const p of raw) {
    if (p.taps.length > 0) {
      phases.push({
        weightOffset: tapOrder.length * ci * co,
        outOffset: (p.ph * g.inWidth + p.pw) * ci,
        spec: {
          batch: g.batch,
          inHeight: g.outHeight + pads.top + pads.bottom,
          inWidth: g.outWidth + pads.left + pads.right,
          inChannels: co,
          outRows: p.rows,
          outCols: p.cols,
          outChannels: ci,
          strideHeight: 1,
          strideWidth: 1,
          taps: p.taps.map((t) => ({ dh: t.oh + pads.top, dw: t.ow + pads.left })),
          outImageStride: g.inHeight * g.inWidth * ci,
          outRowStride: g.strideHeight * g.inWidth * ci,
          outColStride: g.strideWidth * ci,
          bias: false,
          relu: false,
        },
      });
    }
    for (const t of p.taps) tapOrder.push(t.kh * g.filterWidth + t.kw);
  }
  return { pads, phases, tapOrder, zeroFirst: raw.some((p) => p.taps.length === 0) };
}

/** The filter [KH,KW,Ci,Co] rearranged for the plan: per tap (in plan order) [Co,Ci]. */
export function arrangeInputGradWeights(w: Float32Array, dst: Float32Array, plan: InputGradPlan, ci: number, co: number): void {
  plan.tapOrder.forEach((tap, slot) => {
    const src = tap * ci * co;
    const d = slot * ci * co;
    for (let i = 0; i < ci; i++) {
      for (let o = 0; o < co; o++) dst[d + o * ci + i] = w[src + i * co + o];
    }
  });
}
