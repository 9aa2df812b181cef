/**
 * Conv2DBackpropInput for the wasm backend, as generated SIMD direct
 * convolutions (simd/direct-conv), one per stride phase: the input pixels with
 * (ih mod sh, iw mod sw) = (ph, pw) receive gradient only from the filter taps
 * kh = ph + pt (mod sh), kw = pw + pl (mod sw), and for them dx is a stride-1
 * correlation of dy (zero-padded) with those taps' weights, channels swapped.
 * No zeros are inserted, so stride 2 costs no more than stride 1.
 */
import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { ConvGeometry, ConvGradAttrs, convGeometry } from '../conv-geometry';
import { allocF32, asWasm, heapF32, heapPtr, heapSlack, release, wasmMemory } from './backend';
import { padImage } from './pad';
import { kernelModule } from './simd/cache';
import { DirectConvSpec, directConvModule } from './simd/direct-conv';

interface Attrs extends ConvGradAttrs {
  inputShape: [number, number, number, number];
}

interface Phase {
  ph: number;
  pw: number;
  rows: number;
  cols: number;
  /** Taps as (kh, kw) with their dy offsets (before padding). */
  taps: { kh: number; kw: number; oh: number; ow: number }[];
}

const mod = (a: number, m: number): number => ((a % m) + m) % m;

function phases(g: ConvGeometry): Phase[] {
  const out: Phase[] = [];
  for (let ph = 0; ph < g.strideHeight; ph++) {
    for (let pw = 0; pw < g.strideWidth; pw++) {
      const rows = Math.ceil((g.inHeight - ph) / g.strideHeight);
      const cols = Math.ceil((g.inWidth - pw) / g.strideWidth);
      const taps: Phase['taps'] = [];
      for (let kh = mod(ph + g.padTop, g.strideHeight); kh < g.filterHeight; kh += g.strideHeight) {
        for (let kw = mod(pw + g.padLeft, g.strideWidth); kw < g.filterWidth; kw += g.strideWidth) {
          taps.push({ kh, kw, oh: (ph + g.padTop - kh) / g.strideHeight, ow: (pw + g.padLeft - kw) / g.strideWidth });
        }
      }
      if (rows > 0 && cols > 0) out.push({ ph, pw, rows, cols, taps });
    }
  }
  return out;
}

const conv2dBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as Attrs;
  const g = convGeometry(a.inputShape, filter.shape, a);
  const ps = phases(g);

  // Zero padding of dy so that every tap of every phase reads inside it.
  let top = 0;
  let bottom = 0;
  let left = 0;
  let right = 0;
  for (const p of ps) {
    for (const t of p.taps) {
      top = Math.max(top, -t.oh);
      left = Math.max(left, -t.ow);
      bottom = Math.max(bottom, p.rows - 1 + t.oh - (g.outHeight - 1));
      right = Math.max(right, p.cols - 1 + t.ow - (g.outWidth - 1));
    }
  }
  const padded = padImage(wasm, dy, top, bottom, left, right);
  const ph = g.outHeight + top + bottom;
  const pw = g.outWidth + left + right;

  // Weights of all taps, each as [Co, Ci], phase by phase.
  const wt = allocF32(wasm, [g.filterHeight * g.filterWidth, g.outChannels, g.inChannels]);
  const out = allocF32(wasm, [g.batch, g.inHeight, g.inWidth, g.inChannels]);
  const w = heapF32(wasm, filter);
  const wtv = heapF32(wasm, wt);
  const ci = g.inChannels;
  const co = g.outChannels;
  let slot = 0;
  const slots: number[] = [];
  for (const p of ps) {
    slots.push(slot);
    for (const t of p.taps) {
      const src = (t.kh * g.filterWidth + t.kw) * ci * co;
      const dst = slot * ci * co;
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) wtv[dst + o * ci + i] = w[src + i * co + o];
      }
      slot++;
    }
  }
  if (ps.some((p) => p.taps.length === 0)) heapF32(wasm, out).fill(0);

  const memory = wasmMemory(wasm);
  const maskedTail = heapSlack(wasm, out, wt);
  ps.forEach((p, i) => {
    if (p.taps.length === 0) return;
    const spec: DirectConvSpec = {
      batch: g.batch,
      inHeight: ph,
      inWidth: pw,
      inChannels: co,
      outRows: p.rows,
      outCols: p.cols,
      outChannels: ci,
      strideHeight: 1,
      strideWidth: 1,
      taps: p.taps.map((t) => ({ dh: t.oh + top, dw: t.ow + left })),
      outImageStride: g.inHeight * g.inWidth * ci,
      outRowStride: g.strideHeight * g.inWidth * ci,
      outColStride: g.strideWidth * ci,
      bias: false,
      relu: false,
      maskedTail,
    };
    const kernel = kernelModule(memory, `conv:${JSON.stringify(spec)}`, () => directConvModule(spec));
    kernel.conv(heapPtr(wasm, padded), heapPtr(wasm, wt) + 4 * slots[i] * ci * co, 0,
      heapPtr(wasm, out) + 4 * (p.ph * g.inWidth + p.pw) * ci);
  });
  release(wasm, wt);
  if (padded !== dy) release(wasm, padded);
  return out;
};

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput,
};
