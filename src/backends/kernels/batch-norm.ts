/**
 * Training-mode batch normalization over every axis but the last (channels), as
 * two kernels that walk the activations a few times in tight loops instead of the
 * dozen full-size tensor ops tfjs composes it from (on wasm, generated SIMD kernels
 * over blocks of rows, wasm/simd/channel-ops: a pass for the sums, a pass for the
 * output; otherwise the loops below):
 *
 *   MtlBatchNormTrain      x, scale, offset -> y, mean, variance (biased), a, b
 *   MtlBatchNormTrainGrad  dy, x, scale, mean, variance (, a, b) -> dx, dscale, doffset
 *
 * where y = x·a + b per channel. With `relu` (a batch norm whose relu was fused into it,
 * src/models/training-fusion.ts), y = max(x·a + b, 0) and the gradient first multiplies dy
 * by step(x·a + b) as Relu's gradient does, x·a + b recomputed from a and b with the
 * forward's own float32 arithmetic (so the mask is its exactly): the relu's pass and its
 * gradient's pass over the activation are gone, and the pre-relu activation is never stored.
 *
 * and, for inference, the per-channel affine map batch normalization then is, in one
 * pass instead of a Multiply and an Add over the whole activation (the same float32
 * products and sums, so the same values):
 *
 *   MtlChannelAffine       x, scale, offset -> x·scale + offset
 *
 *   x̂ = (x − μ)/σ,  dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/(N·σ) · (N·dy − dβ − x̂·dγ),  σ = √(var + ε)
 */
import {
  registerGradient,
  registerKernel,
  getKernel,
  getGradient,
  engine,
  type KernelConfig,
  type KernelFunc,
  type Tensor,
  type TensorInfo,
  type NamedAttrMap,
  mul,
  sum,
} from '@tensorflow/tfjs-core';
import { hostArrays } from './host-arrays';
import { stepValue } from './relu-grad';
import { asWasm, heapF32, heapPtr, release } from './wasm/backend';
import { batchNormSums, channelOps, channelOpsByRows, heapVector, type ReluMask } from './wasm/channel-ops';

export const BATCH_NORM_TRAIN = 'MtlBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'MtlBatchNormTrainGrad';
export const CHANNEL_AFFINE = 'MtlChannelAffine';

interface Attrs {
  epsilon: number;
  /** The relu after the batch norm, fused into it. */
  relu?: boolean;
}

/**
 * Per-channel mean and biased variance of x viewed as [n, c], in one pass with
 * float64 sums (activations are O(1), so E[x²] − E[x]² loses nothing at this precision).
 * Channel-outer loops keep both sums in registers: about twice as fast as row-outer.
 */
export function channelMoments(x: Float32Array, c: number): { mean: Float64Array; variance: Float64Array } {
  const n = x.length / c;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    let sum = 0;
    let sumSq = 0;
    for (let i = j; i < x.length; i += c) {
      const v = x[i];
      sum += v;
      sumSq += v * v;
    }
    mean[j] = sum / n;
    variance[j] = Math.max(0, sumSq / n - mean[j] * mean[j]);
  }
  return { mean, variance };
}

/** dy · step(y), y the forward's x·a + b in double rounded to float32 as the cpu forward stores it: Relu's gradient (relu-grad.ts). */
function reluMasked(dy: Float32Array, x: Float32Array, a: Float32Array, b: Float32Array): Float32Array {
  const c = a.length;
  const out = new Float32Array(dy.length);
  for (let i = 0; i < dy.length; i++) out[i] = dy[i] * stepValue(Math.fround(x[i] * a[i % c] + b[i % c]));
  return out;
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The forward pass on the wasm heap: [Σx, Σx²] per channel over blocks of rows that
 * stay in L1 (rather than a walk down all rows per group of 4 channels, which reads
 * every cache line C/4 times: 4-8 ms per 1M-element tensor), then y = x·a + b.
 */
function wasmForward(
  backend: unknown, x: TensorInfo, scale: TensorInfo, offset: TensorInfo, attrs: Attrs,
  y: TensorInfo, meanOut: TensorInfo, varOut: TensorInfo, aOut: TensorInfo, bOut: TensorInfo,
): void {
  const wasm = asWasm(backend);
  const c = x.shape[x.shape.length - 1];
  const rows = sizeOf(x.shape) / c;
  const zeros = heapVector(wasm, new Float32Array(c));
  // Σ x·(x − 0) is Σ x²
  const [sum, sumSq] = batchNormSums(wasm, x, x, zeros);
  const gamma = heapF32(wasm, scale);
  const beta = heapF32(wasm, offset);
  const a = heapF32(wasm, aOut);
  const b = heapF32(wasm, bOut);
  const mean = heapF32(wasm, meanOut);
  const variance = heapF32(wasm, varOut);
  for (let j = 0; j < c; j++) {
    const m = sum[j] / rows;
    const v = Math.max(0, sumSq[j] / rows - m * m);
    mean[j] = m;
    variance[j] = v;
    a[j] = gamma[j] / Math.sqrt(v + attrs.epsilon);
    b[j] = beta[j] - m * a[j];
  }
  channelOpsByRows(wasm, c, attrs.relu ? 'affineRelu' : 'affine', rows, 1, (first, count) => [heapPtr(wasm, x) + 4 * first * c, heapPtr(wasm, aOut), heapPtr(wasm, bOut), count, heapPtr(wasm, y) + 4 * first * c]);
  release(wasm, zeros);
}

/** The backward pass on the wasm heap: [Σdy, Σdy·(x − μ)], then dx = kn·dy − kx·(x − μ) − k·Σdy in one pass. */
function wasmBackward(
  backend: unknown, dy: TensorInfo, x: TensorInfo, scale: TensorInfo, mean: TensorInfo, variance: TensorInfo, epsilon: number, relu: ReluMask | undefined,
  dxOut: TensorInfo, dScaleOut: TensorInfo, dOffsetOut: TensorInfo,
): void {
  const wasm = asWasm(backend);
  const c = x.shape[x.shape.length - 1];
  const rows = sizeOf(x.shape) / c;
  const [sumDy, sumDyXc] = batchNormSums(wasm, x, dy, mean, relu);
  const gamma = heapF32(wasm, scale);
  const vars = heapF32(wasm, variance);
  const kn = new Float32Array(c);
  const kxNeg = new Float32Array(c);
  const k0 = new Float32Array(c);
  const dScale = heapF32(wasm, dScaleOut);
  const dOffset = heapF32(wasm, dOffsetOut);
  for (let j = 0; j < c; j++) {
    const inv = 1 / Math.sqrt(vars[j] + epsilon);
    const dGamma = sumDyXc[j] * inv;
    dScale[j] = dGamma;
    dOffset[j] = sumDy[j];
    // dx = k·(n·dy − Σdy − x̂·Σdy·x̂), k = γ/(n·σ)
    const k = (gamma[j] * inv) / rows;
    const kx = k * inv * dGamma;
    kn[j] = k * rows;
    kxNeg[j] = -kx;
    k0[j] = -k * sumDy[j];
  }
  const vectors = [kn, kxNeg, k0].map((v) => heapVector(wasm, v));
  const [knv, kxv, k0v] = vectors;
  const mask = relu ? [heapPtr(wasm, relu.a), heapPtr(wasm, relu.b)] : [];
  channelOpsByRows(wasm, c, relu ? 'affine2Relu' : 'affine2', rows, 1, (first, count) => [
    heapPtr(wasm, dy) + 4 * first * c, heapPtr(wasm, knv), heapPtr(wasm, x) + 4 * first * c, heapPtr(wasm, mean), heapPtr(wasm, kxv), heapPtr(wasm, k0v), ...mask, count, heapPtr(wasm, dxOut) + 4 * first * c,
  ]);
  release(wasm, ...vectors);
}

function forwardFor(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, scale, offset } = inputs as { x: TensorInfo; scale: TensorInfo; offset: TensorInfo };
    const typedAttrs = attrs as unknown as Attrs;
    const c = x.shape[x.shape.length - 1];
    const arrays = hostArrays(backendName, backend);
    const outputs = arrays.allocate([x.shape, [c], [c], [c], [c]]);
    const [y, meanOut, varOut, aOut, bOut] = outputs;
    if (backendName === 'wasm') {
      wasmForward(backend, x, scale, offset, typedAttrs, y, meanOut, varOut, aOut, bOut);
      return outputs;
    }
    const xs = arrays.view(x);
    const { mean, variance } = channelMoments(xs, c);
    const gamma = arrays.view(scale);
    const beta = arrays.view(offset);
    // float32 a and b, so the gradient's relu mask recomputes x·a + b exactly
    const a = arrays.view(aOut);
    const b = arrays.view(bOut);
    for (let j = 0; j < c; j++) {
      a[j] = gamma[j] / Math.sqrt(variance[j] + typedAttrs.epsilon);
      b[j] = beta[j] - mean[j] * a[j];
    }
    const ys = arrays.view(y);
    for (let j = 0; j < c; j++) {
      const aj = a[j];
      const bj = b[j];
      if (typedAttrs.relu) for (let i = j; i < xs.length; i += c) ys[i] = Math.max(xs[i] * aj + bj, 0);
      else for (let i = j; i < xs.length; i += c) ys[i] = xs[i] * aj + bj;
    }
    arrays.view(meanOut).set(mean);
    arrays.view(varOut).set(variance);
    return outputs;
  };
}

function backwardFor(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, x, scale, mean, variance, a, b } = inputs as Record<string, TensorInfo>;
    const { epsilon, relu } = attrs as unknown as Attrs;
    const c = x.shape[x.shape.length - 1];
    const arrays = hostArrays(backendName, backend);
    const [dxOut, dScaleOut, dOffsetOut] = arrays.allocate([x.shape, [c], [c]]);
    if (backendName === 'wasm') {
      wasmBackward(backend, dy, x, scale, mean, variance, epsilon, relu ? { a, b } : undefined, dxOut, dScaleOut, dOffsetOut);
      return [dxOut, dScaleOut, dOffsetOut];
    }
    const dys = relu ? reluMasked(arrays.view(dy), arrays.view(x), arrays.view(a), arrays.view(b)) : arrays.view(dy);
    const xs = arrays.view(x);
    const gamma = arrays.view(scale);
    const mu = arrays.view(mean);
    const vars = arrays.view(variance);
    const inv = new Float64Array(c);
    for (let j = 0; j < c; j++) inv[j] = 1 / Math.sqrt(vars[j] + epsilon);
    const sumDy = new Float64Array(c);
    const sumDyXhat = new Float64Array(c);
    const n = xs.length / c;
    const dx = arrays.view(dxOut);
    for (let j = 0; j < c; j++) {
      const m = mu[j];
      let sDy = 0;
      let sDyX = 0;
      for (let i = j; i < xs.length; i += c) {
        const g = dys[i];
        sDy += g;
        sDyX += g * (xs[i] - m);
      }
      sumDy[j] = sDy;
      sumDyXhat[j] = sDyX * inv[j];
      // dx = γσ⁻¹/n · (n·dy − Σdy − x̂·Σdy·x̂), with x̂ = (x − μ)σ⁻¹
      const k = (gamma[j] * inv[j]) / n;
      const kx = k * inv[j] * sumDyXhat[j];
      const k0 = k * sDy;
      const kn = k * n;
      for (let i = j; i < xs.length; i += c) dx[i] = kn * dys[i] - k0 - (xs[i] - m) * kx;
    }
    arrays.view(dScaleOut).set(sumDyXhat);
    arrays.view(dOffsetOut).set(sumDy);
    return [dxOut, dScaleOut, dOffsetOut];
  };
}

function channelAffineFor(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend }) => {
    const { x, scale, offset } = inputs as { x: TensorInfo; scale: TensorInfo; offset: TensorInfo };
    const c = x.shape[x.shape.length - 1];
    const arrays = hostArrays(backendName, backend);
    const [y] = arrays.allocate([x.shape]);
    if (backendName === 'wasm') {
      const wasm = asWasm(backend);
      channelOps(wasm, c).affine(heapPtr(wasm, x), heapPtr(wasm, scale), heapPtr(wasm, offset), sizeOf(x.shape) / c, heapPtr(wasm, y));
      return y;
    }
    const [xs, a, b, ys] = [x, scale, offset, y].map((t) => arrays.view(t));
    // The product rounded to float32 first, as the wasm kernel and a Multiply then an Add compute it.
    for (let i = 0; i < xs.length; i++) ys[i] = Math.fround(xs[i] * a[i % c]) + b[i % c];
    return y;
  };
}

/** Registers the kernels for a host-memory backend, and their gradients once. */
export function registerBatchNormKernels(backendName: 'wasm' | 'cpu'): void {
  const configs: KernelConfig[] = [
    { kernelName: BATCH_NORM_TRAIN, backendName, kernelFunc: forwardFor(backendName) },
    { kernelName: BATCH_NORM_TRAIN_GRAD, backendName, kernelFunc: backwardFor(backendName) },
    { kernelName: CHANNEL_AFFINE, backendName, kernelFunc: channelAffineFor(backendName) },
  ];
  for (const config of configs) if (!getKernel(config.kernelName, backendName)) registerKernel(config);
  if (!getGradient(BATCH_NORM_TRAIN)) {
    registerGradient({
      kernelName: BATCH_NORM_TRAIN,
      inputsToSave: ['x', 'scale'],
      outputsToSave: [false, true, true, true, true],
      gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
        const dy = Array.isArray(dys) ? dys[0] : dys;
        const [x, scale, mean, variance, a, b] = saved;
        const [dx, dScale, dOffset] = engine().runKernel(BATCH_NORM_TRAIN_GRAD, { dy, x, scale, mean, variance, a, b }, attrs) as Tensor[];
        return { x: () => dx, scale: () => dScale, offset: () => dOffset };
      },
    });
  }
  if (!getGradient(CHANNEL_AFFINE)) {
    // The gradient of x·scale + offset with broadcast per-channel vectors, as tfjs takes it through Multiply and Add.
    registerGradient({
      kernelName: CHANNEL_AFFINE,
      inputsToSave: ['x', 'scale'],
      gradFunc: (dys: Tensor | Tensor[], saved: Tensor[]) => {
        const dy = Array.isArray(dys) ? dys[0] : dys;
        const [x, scale] = saved;
        const axes = x.shape.slice(0, -1).map((_, i) => i);
        return { x: () => mul(dy, scale), scale: () => sum(mul(dy, x), axes), offset: () => sum(dy, axes) };
      },
    });
  }
}
