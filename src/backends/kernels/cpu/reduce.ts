/**
 * Mean and Sum over every axis but the last (batch norm's per-channel moments
 * and their gradients) for the cpu backend in one pass; the stock kernels
 * transpose first. Other reductions go to the stock kernels.
 */
import { backend_util, KernelConfig, KernelFunc, TensorInfo, util } from '@tensorflow/tfjs-core';
import { channelSums } from '../channel-math';
import { leadingAxes } from '../patterns';
import { stockKernel } from '../register';
import { asCpu, f32, output } from './backend';

function reduceLeading(name: 'Mean' | 'Sum'): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    if (x.dtype !== 'float32' || !leadingAxes(x, axis) || util.sizeFromShape(x.shape) === 0) {
      return stockKernel(name, 'cpu')(args);
    }
    const cpu = asCpu(args.backend);
    const c = x.shape[x.shape.length - 1];
    const sums = channelSums(f32(cpu, x), c);
    const scale = name === 'Mean' ? util.sizeFromShape(x.shape) / c : 1;
    const shape = keepDims ? backend_util.expandShapeToKeepDim([c], util.parseAxisParam(axis, x.shape)) : [c];
    return output(cpu, shape, Float32Array.from(sums, (s) => s / scale));
  };
}

export const meanConfig: KernelConfig = { kernelName: 'Mean', backendName: 'cpu', kernelFunc: reduceLeading('Mean') };
export const sumConfig: KernelConfig = { kernelName: 'Sum', backendName: 'cpu', kernelFunc: reduceLeading('Sum') };
