/** MtlRepeat (see ../repeat) on the wasm heap. */
import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { REPEAT, repeatGeometry, repeatInto } from '../repeat';
import { allocF32, asWasm, heapF32 } from './backend';

const repeat: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { x } = inputs as { x: TensorInfo };
  const shape = attrs?.shape as number[];
  const geometry = repeatGeometry(x.shape, shape);
  if (geometry === null) throw new Error(`${REPEAT}: cannot repeat ${JSON.stringify(x.shape)} to ${JSON.stringify(shape)}`);
  const out = allocF32(wasm, shape);
  repeatInto(heapF32(wasm, x), heapF32(wasm, out), geometry);
  return out;
};

export const repeatConfig: KernelConfig = { kernelName: REPEAT, backendName: 'wasm', kernelFunc: repeat };
