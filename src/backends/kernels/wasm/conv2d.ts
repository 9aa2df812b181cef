/**
 * Conv2D and FusedConv2D (bias, linear or relu) for the wasm backend as generated
 * SIMD kernels over a zero-padded copy of x (./run-conv: Winograd for stride-1
 * 3x3, direct convolution otherwise), 1.3-2x the speed of the stock XNNPACK
 * path here. Other layouts and activations go to the stock kernels.
 */
import { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { forwardPlan } from '../conv-plans';
import { ConvAttrs, forwardConvConfigs } from '../conv-forward';
import { Shape4 } from '../conv-geometry';
import { allocF32, asWasm, release } from './backend';
import { padImage } from './pad';
import { runConv } from './run-conv';

/** y = conv2d(x, filter) (+ bias) (then relu), NHWC. */
function directConv2d(
  backend: unknown, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | undefined, a: ConvAttrs, relu: boolean,
): TensorInfo {
  const wasm = asWasm(backend);
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4, filter.shape as Shape4, a.strides, a.dilations, a.pad, a.dimRoundingMode, false, 'channelsLast');
  const out = allocF32(wasm, info.outShape);
  if (info.outHeight * info.outWidth * info.batchSize * info.outChannels === 0) return out;
  const plan = forwardPlan(info, bias !== undefined, relu);
  const padded = padImage(wasm, x, plan.pads);
  runConv(wasm, plan.spec, { input: padded, weights: filter, weightOffset: 0, bias, out, outOffset: 0 });
  if (padded !== x) release(wasm, padded);
  return out;
}

export const [conv2dConfig, fusedConv2dConfig] = forwardConvConfigs('wasm', directConv2d);
