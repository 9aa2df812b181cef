/**
 * Conv2D and FusedConv2D (bias, linear or relu) for the cpu backend as plain-JS
 * register-tiled direct convolutions (./direct-conv) over a zero-padded copy of
 * x. Other layouts and activations go to the stock kernels.
 */
import { backend_util, TensorInfo, util } from '@tensorflow/tfjs-core';
import { forwardPlan, hasPads, padInto } from '../conv-plans';
import { ConvAttrs, forwardConvConfigs } from '../conv-forward';
import { Shape4 } from '../conv-geometry';
import { asCpu, f32, output } from './backend';
import { directConv } from './direct-conv';

function conv(backend: unknown, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | undefined, a: ConvAttrs, relu: boolean): TensorInfo {
  const cpu = asCpu(backend);
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

export const [conv2dConfig, fusedConv2dConfig] = forwardConvConfigs('cpu', conv);
