/**
 * Mean and Sum over every axis but the last (per-channel reductions, as in
 * tf.moments for batch norm and in its gradient) for the wasm backend, without
 * the stock kernels' transpose, and over all axes (the squared gradient norm of
 * every weight, each step) as SIMD block sums. Other reductions go to the stock kernels.
 */
import { backend_util, KernelConfig, KernelFunc, TensorInfo, util } from '@tensorflow/tfjs-core';
import { leadingAxes } from '../patterns';
import { stockKernel } from '../register';
import { asWasm } from './backend';
import { channelSums, heapVector } from './channel-ops';

function reduceLeading(name: 'Mean' | 'Sum'): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const size = util.sizeFromShape(x.shape);
    if (x.dtype === 'float32' && size >= 1024 && size % 4 === 0 && util.parseAxisParam(axis, x.shape).length === x.shape.length) {
      // every axis: the four lanes' sums of x viewed as [size / 4, 4], added up in double precision
      const wasm = asWasm(args.backend);
      const lanes = channelSums(wasm, { dataId: x.dataId, shape: [size / 4, 4], dtype: 'float32' });
      const total = lanes[0] + lanes[1] + lanes[2] + lanes[3];
      const out = heapVector(wasm, [name === 'Mean' ? total / size : total]);
      out.shape = keepDims ? x.shape.map(() => 1) : [];
      return out;
    }
    if (x.dtype !== 'float32' || !leadingAxes(x, axis) || size === 0) {
      return stockKernel(name, 'wasm')(args);
    }
    const wasm = asWasm(args.backend);
    const c = x.shape[x.shape.length - 1];
    const sums = channelSums(wasm, x);
    const scale = name === 'Mean' ? util.sizeFromShape(x.shape) / c : 1;
    const out = heapVector(wasm, Float32Array.from(sums, (s) => s / scale));
    const axes = util.parseAxisParam(axis, x.shape);
    out.shape = keepDims ? backend_util.expandShapeToKeepDim([c], axes) : [c];
    return out;
  };
}

export const meanConfig: KernelConfig = { kernelName: 'Mean', backendName: 'wasm', kernelFunc: reduceLeading('Mean') };
export const sumConfig: KernelConfig = { kernelName: 'Sum', backendName: 'wasm', kernelFunc: reduceLeading('Sum') };
