/**
 * Relu and Step (relu's gradient mask) for the cpu backend on float32 as plain
 * loops; the stock kernels call a function per element.
 */
import { KernelConfig, KernelFunc, TensorInfo, util } from '@tensorflow/tfjs-core';
import { stockKernel } from '../register';
import { asCpu, f32, output } from './backend';

const relu: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype !== 'float32') return stockKernel('Relu', 'cpu')(args);
  const cpu = asCpu(args.backend);
  const v = f32(cpu, x);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] > 0 ? v[i] : v[i] !== v[i] ? NaN : 0;
  return output(cpu, x.shape, out);
};

const step: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype !== 'float32') return stockKernel('Step', 'cpu')(args);
  const cpu = asCpu(args.backend);
  const alpha = (args.attrs?.alpha as number | undefined) ?? 0;
  const v = f32(cpu, x);
  const out = new Float32Array(util.sizeFromShape(x.shape));
  for (let i = 0; i < v.length; i++) out[i] = v[i] > 0 ? 1 : v[i] !== v[i] ? NaN : alpha;
  return output(cpu, x.shape, out);
};

export const reluConfig: KernelConfig = { kernelName: 'Relu', backendName: 'cpu', kernelFunc: relu };
export const stepConfig: KernelConfig = { kernelName: 'Step', backendName: 'cpu', kernelFunc: step };
