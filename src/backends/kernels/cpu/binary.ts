/**
 * Multiply, Add, Sub and RealDiv for the cpu backend on float32 operands of the
 * same shape, or with a scalar or a per-channel vector broadcast over the other:
 * plain loops instead of the stock kernels' per-element index arithmetic (~50x
 * faster on batch norm's broadcasts). Other cases go to the stock kernels.
 */
import { KernelConfig, KernelFunc, TensorInfo, util } from '@tensorflow/tfjs-core';
import { BinaryOp, channelBinary, elementwiseBinary, scalarBinary } from '../channel-math';
import { channelBroadcast } from '../patterns';
import { stockKernel } from '../register';
import { asCpu, f32, output } from './backend';

function binary(name: BinaryOp): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const cpu = asCpu(args.backend);
    if (a.dtype === 'float32' && b.dtype === 'float32' && util.arraysEqual(a.shape, b.shape)) {
      const out = new Float32Array(util.sizeFromShape(a.shape));
      elementwiseBinary(name, f32(cpu, a), f32(cpu, b), out);
      return output(cpu, a.shape, out);
    }
    const aSize = util.sizeFromShape(a.shape);
    const bSize = util.sizeFromShape(b.shape);
    if (a.dtype === 'float32' && b.dtype === 'float32' && (aSize === 1 || bSize === 1) && aSize !== bSize) {
      const [full, scalar] = aSize === 1 ? [b, a] : [a, b];
      if (scalar.shape.length <= full.shape.length) {
        const out = new Float32Array(util.sizeFromShape(full.shape));
        scalarBinary(name, f32(cpu, full), f32(cpu, scalar)[0], out, aSize === 1);
        return output(cpu, full.shape, out);
      }
    }
    const operands = channelBroadcast(a, b);
    if (operands === null) return stockKernel(name, 'cpu')(args);
    const { full, vec, vectorFirst } = operands;
    const out = new Float32Array(util.sizeFromShape(full.shape));
    channelBinary(name, f32(cpu, full), f32(cpu, vec), out, vectorFirst);
    return output(cpu, full.shape, out);
  };
}

export const binaryConfigs: KernelConfig[] = (['Multiply', 'Add', 'Sub', 'RealDiv'] as BinaryOp[]).map((name) => ({
  kernelName: name,
  backendName: 'cpu',
  kernelFunc: binary(name),
}));
