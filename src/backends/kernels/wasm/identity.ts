/**
 * Identity, Cast to the same dtype and Transpose by the identity permutation (the
 * embedding gradient makes two per step) for the wasm backend without copying:
 * the output shares the input's memory by reference count, as on the cpu
 * backend (the engine clones every tensor it saves for the backward pass).
 */
import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { stockKernel } from '../register';
import { asWasm } from './backend';

function share(wasm: ReturnType<typeof asWasm>, x: TensorInfo): TensorInfo {
  wasm.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const identity: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') return stockKernel('Identity', 'wasm')(args);
  return share(asWasm(args.backend), x);
};

const cast: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string' || x.dtype !== args.attrs?.dtype) return stockKernel('Cast', 'wasm')(args);
  return share(asWasm(args.backend), x);
};

export const identityConfig: KernelConfig = { kernelName: 'Identity', backendName: 'wasm', kernelFunc: identity };
export const castConfig: KernelConfig = { kernelName: 'Cast', backendName: 'wasm', kernelFunc: cast };

const transpose: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const perm = args.attrs?.perm as number[];
  if (x.dtype === 'string' || !perm.every((axis, i) => axis === i)) return stockKernel('Transpose', 'wasm')(args);
  return share(asWasm(args.backend), x);
};

export const transposeConfig: KernelConfig = { kernelName: 'Transpose', backendName: 'wasm', kernelFunc: transpose };
