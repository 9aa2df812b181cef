/**
 * Identity on wasm without a copy. tfjs clones every tensor it saves for the
 * backward pass, and the stock wasm Identity copies the whole buffer each time
 * (over 300 copies of full-size activations per ResNet step); tensors are
 * immutable, so sharing the buffer with a reference count, as the cpu backend
 * does, is enough.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

export const identityWasm: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  if (x.dtype === 'string') throw new Error('string tensors are not used by mtl');
  (backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

export const identityWasmConfig: KernelConfig = { kernelName: 'Identity', backendName: 'wasm', kernelFunc: identityWasm };
