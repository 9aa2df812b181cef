/**
 * Conv2D and FusedConv2D (bias, linear or relu) for the cpu backend as plain-JS
 * register-tiled direct convolutions (./direct-conv) over a zero-padded copy of
 * x. Other layouts and activations go to the stock kernels.
 */
import { backend_util, KernelConfig, KernelFunc, TensorInfo, util } from '@tensorflow/tfjs-core';
import { forwardPlan, hasPads, padInto } from '../conv-plans';
import { stockKernel } from '../register';
import { asCpu, f32, MathBackendCPU, output } from './backend';
import { directConv } from './direct-conv';

type Shape4 = [number, number, number, number];

interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
}

function conv(cpu: MathBackendCPU, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | undefined, a: ConvAttrs, relu: boolean): TensorInfo {
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4, filter.shape as Shape4, a.strides, a.dilations, a.pad, a.dimRoundingMode, false, 'channelsLast');
  const out = new Float32Array(util.sizeFromShape(info.outShape));
  if (out.length > 0) {
    const plan = forwardPlan(info, bias !== undefined, relu);
    let input = f32(cpu, x);
    if (hasPads(plan.pads)) {
      const padded = new Float32Array(info.batchSize * plan.spec.inHeight * plan.spec.inWidth * info.inChannels);
      padInto(input, padded, x.shape, plan.pads);
      input = padded;
    }
    directConv(plan.spec, {
      input, weights: f32(cpu, filter), weightOffset: 0, bias: bias === undefined ? null : f32(cpu, bias), out, outOffset: 0,
    });
  }
  return output(cpu, info.outShape, out);
}

function supported(x: TensorInfo, filter: TensorInfo, a: ConvAttrs): boolean {
  return a.dataFormat !== 'NCHW' && x.dtype === 'float32' && filter.dtype === 'float32';
}

const conv2d: KernelFunc = (args) => {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const a = args.attrs as unknown as ConvAttrs;
  if (!supported(x, filter, a)) return stockKernel('Conv2D', 'cpu')(args);
  return conv(asCpu(args.backend), x, filter, undefined, a, false);
};

const fusedConv2d: KernelFunc = (args) => {
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined> as {
    x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo;
  };
  const a = args.attrs as unknown as ConvAttrs;
  const activation = a.activation ?? 'linear';
  const biasOk = bias == null || (bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === filter.shape[3]);
  if (!supported(x, filter, a) || !biasOk || preluActivationWeights != null || (activation !== 'linear' && activation !== 'relu')) {
    return stockKernel('FusedConv2D', 'cpu')(args);
  }
  return conv(asCpu(args.backend), x, filter, bias ?? undefined, a, activation === 'relu');
};

export const conv2dConfig: KernelConfig = { kernelName: 'Conv2D', backendName: 'cpu', kernelFunc: conv2d };
export const fusedConv2dConfig: KernelConfig = { kernelName: 'FusedConv2D', backendName: 'cpu', kernelFunc: fusedConv2d };
