/**
 * FusedBatchNorm (forward) for the wasm backend with per-channel parameters:
 * y = x * k + b with k = scale / sqrt(variance + eps), b = offset - mean * k,
 * one SIMD pass. Other parameter shapes go to the stock kernel.
 */
import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { isChannelVector } from '../patterns';
import { stockKernel } from '../register';
import { allocF32, asWasm, heapF32, heapPtr, release } from './backend';
import { channelOps, heapVector } from './channel-ops';

const fusedBatchNorm: KernelFunc = (args) => {
  const wasm = asWasm(args.backend);
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined> as {
    x: TensorInfo; mean: TensorInfo; variance: TensorInfo; offset?: TensorInfo; scale?: TensorInfo;
  };
  const c = x.shape[x.shape.length - 1];
  if (x.dtype !== 'float32' || ![mean, variance, offset, scale].every((t) => isChannelVector(t, c))) {
    return stockKernel('FusedBatchNorm', 'wasm')(args);
  }
  const eps = args.attrs?.varianceEpsilon as number;
  const m = heapF32(wasm, mean);
  const v = heapF32(wasm, variance);
  const s = scale == null ? null : heapF32(wasm, scale);
  const o = offset == null ? null : heapF32(wasm, offset);
  const kv = new Float32Array(c);
  const bv = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    const k = (s === null ? 1 : s[i]) / Math.sqrt(v[i] + eps);
    kv[i] = k;
    bv[i] = (o === null ? 0 : o[i]) - m[i] * k;
  }
  const k = heapVector(wasm, kv);
  const b = heapVector(wasm, bv);
  const out = allocF32(wasm, x.shape);
  const rows = x.shape.reduce((p, q) => p * q, 1) / c;
  channelOps(wasm, c).affine(heapPtr(wasm, x), heapPtr(wasm, k), heapPtr(wasm, b), rows, heapPtr(wasm, out));
  release(wasm, k, b);
  return out;
};

export const fusedBatchNormConfig: KernelConfig = {
  kernelName: 'FusedBatchNorm',
  backendName: 'wasm',
  kernelFunc: fusedBatchNorm,
};
