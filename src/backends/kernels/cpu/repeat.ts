/** MtlRepeat (see ../repeat) on the cpu backend. */
import { KernelConfig, KernelFunc, TensorInfo, util } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { REPEAT, repeatGeometry, repeatInto } from '../repeat';

const repeat: KernelFunc = ({ inputs, backend, attrs }) => {
  const cpu = backend as MathBackendCPU;
  const { x } = inputs as { x: TensorInfo };
  const shape = attrs?.shape as number[];
  const geometry = repeatGeometry(x.shape, shape);
  if (geometry === null) throw new Error(`${REPEAT}: cannot repeat ${JSON.stringify(x.shape)} to ${JSON.stringify(shape)}`);
  const out = new Float32Array(util.sizeFromShape(shape));
  repeatInto(cpu.data.get(x.dataId).values as Float32Array, out, geometry);
  return cpu.makeTensorInfo(shape, 'float32', out);
};

export const repeatConfig: KernelConfig = { kernelName: REPEAT, backendName: 'cpu', kernelFunc: repeat };
