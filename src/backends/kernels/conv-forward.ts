/**
 * The dispatch shared by the cpu and wasm Conv2D / FusedConv2D kernels: which
 * calls mtl's direct convolutions take (NHWC float32, no bias or a per-channel
 * one, linear or relu) and which go to the stock kernel.
 */
import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { ConvGradAttrs } from './conv-geometry';
import { stockKernel } from './register';

/** Attributes of Conv2D and FusedConv2D, as tfjs-core passes them. */
export interface ConvAttrs extends ConvGradAttrs {
  dilations: [number, number] | number;
  activation?: string;
}

/** y = conv2d(x, filter) (+ bias) (then relu), NHWC, on one backend. */
export type RunForwardConv = (
  backend: unknown, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | undefined, attrs: ConvAttrs, relu: boolean,
) => TensorInfo;

/** The Conv2D and FusedConv2D configs for `backendName`, running supported calls through `run`. */
export function forwardConvConfigs(backendName: 'cpu' | 'wasm', run: RunForwardConv): [KernelConfig, KernelConfig] {
  const supported = (x: TensorInfo, filter: TensorInfo, a: ConvAttrs): boolean =>
    a.dataFormat !== 'NCHW' && x.dtype === 'float32' && filter.dtype === 'float32';

  const conv2d: KernelFunc = (args) => {
    const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
    const a = args.attrs as unknown as ConvAttrs;
    if (!supported(x, filter, a)) return stockKernel('Conv2D', backendName)(args);
    return run(args.backend, x, filter, undefined, a, false);
  };

  const fusedConv2d: KernelFunc = (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined> as {
      x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo;
    };
    const a = args.attrs as unknown as ConvAttrs;
    const activation = a.activation ?? 'linear';
    const biasOk = bias == null || (bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === filter.shape[3]);
    if (!supported(x, filter, a) || !biasOk || preluActivationWeights != null || (activation !== 'linear' && activation !== 'relu')) {
      return stockKernel('FusedConv2D', backendName)(args);
    }
    return run(args.backend, x, filter, bias ?? undefined, a, activation === 'relu');
  };

  return [
    { kernelName: 'Conv2D', backendName, kernelFunc: conv2d },
    { kernelName: 'FusedConv2D', backendName, kernelFunc: fusedConv2d },
  ];
}
