/**
 * Conv2D and FusedConv2D (bias, linear or relu) for the wasm backend as generated
 * SIMD kernels: per-tap matrix products over the whole batch for small images and
 * 1x1 filters (./gather-conv), otherwise over a zero-padded copy of x (./run-conv:
 * Winograd for stride-1 3x3, 1x3 and 3x1, direct convolution otherwise), 1.3-2x the speed of
 * the stock XNNPACK path here. Other layouts and activations go to the stock kernels.
 */
import { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { forwardPlan } from '../conv-plans';
import { ConvAttrs, forwardConvConfigs } from '../conv-forward';
import { convGeometry, Shape4 } from '../conv-geometry';
import { allocF32, asWasm, release } from './backend';
import { gatherApplies, gatherForward } from './gather-conv';
import { padImage } from './pad';
import { runConv } from './run-conv';

/** y = conv2d(x, filter) (+ bias) (then relu), NHWC. */
function directConv2d(
  backend: unknown, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | undefined, a: ConvAttrs, relu: boolean,
): TensorInfo {
  const wasm = asWasm(backend);
  const dilations = typeof a.dilations === 'number' ? [a.dilations, a.dilations] : a.dilations ?? [1, 1];
  if (dilations[0] === 1 && dilations[1] === 1 && x.shape.every((d) => d > 0)) {
    const g = convGeometry(x.shape, filter.shape, a);
    if (gatherApplies(g, 'forward')) return gatherForward(wasm, g, x, filter, bias, relu);
  }
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
