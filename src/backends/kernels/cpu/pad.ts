/** PadV2 for the cpu backend when it zero-pads the spatial axes of NHWC float32 (zeroPadding2d). */
import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { padInto, spatialPads } from '../conv-plans';
import { stockKernel } from '../register';
import { asCpu, f32, output } from './backend';

const padV2: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { paddings, constantValue } = args.attrs as unknown as { paddings: [number, number][]; constantValue: number };
  const pads = spatialPads(x, paddings, constantValue);
  if (pads === null) return stockKernel('PadV2', 'cpu')(args);
  const cpu = asCpu(args.backend);
  const [n, h, w, c] = x.shape;
  const shape = [n, h + pads.top + pads.bottom, w + pads.left + pads.right, c];
  const out = new Float32Array(shape[0] * shape[1] * shape[2] * c);
  padInto(f32(cpu, x), out, x.shape, pads);
  return output(cpu, shape, out);
};

export const padV2Config: KernelConfig = { kernelName: 'PadV2', backendName: 'cpu', kernelFunc: padV2 };
