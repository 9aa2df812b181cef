/**
 * BatchMatMul for the wasm backend with transposed operands: the stock kernel
 * sends any transposed product (every dense layer's backward pass) to a scalar
 * loop, ~4x slower than its XNNPACK path; here the operand is transposed first
 * and the product taken untransposed. Batched products go to the stock kernel.
 */
import { KernelConfig, KernelFunc, TensorInfo, util } from '@tensorflow/tfjs-core';
import { stockKernel } from '../register';
import { asWasm, release, runWasmKernel } from './backend';

const batchMatMul: KernelFunc = (args) => {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  const stock = stockKernel('BatchMatMul', 'wasm');
  const single = (t: TensorInfo) => util.sizeFromShape(t.shape.slice(0, -2)) === 1;
  if ((!transposeA && !transposeB) || !single(a) || !single(b) || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return stock(args);
  }
  const wasm = asWasm(args.backend);
  const swapLast = (t: TensorInfo) => {
    const perm = t.shape.map((_, i) => i);
    perm.splice(-2, 2, perm.length - 1, perm.length - 2);
    return runWasmKernel(wasm, 'Transpose', { x: t }, { perm });
  };
  const at = transposeA ? swapLast(a) : a;
  const bt = transposeB ? swapLast(b) : b;
  const out = stock({ ...args, inputs: { a: at, b: bt }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
  if (at !== a) release(wasm, at);
  if (bt !== b) release(wasm, bt);
  return out;
};

export const batchMatMulConfig: KernelConfig = { kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: batchMatMul };
