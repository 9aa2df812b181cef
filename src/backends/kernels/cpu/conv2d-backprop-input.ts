/**
 * Conv2DBackpropInput for the cpu backend: plain-JS direct convolutions
 * (./direct-conv), one per stride phase (see inputGradPlan in ../conv-plans).
 */
import { KernelConfig, KernelFunc, TensorInfo, util } from '@tensorflow/tfjs-core';
import { ConvGradAttrs, convGeometry } from '../conv-geometry';
import { arrangeInputGradWeights, hasPads, inputGradPlan, padInto } from '../conv-plans';
import { stockKernel } from '../register';
import { asCpu, f32, output } from './backend';
import { directConv } from './direct-conv';

interface Attrs extends ConvGradAttrs {
  inputShape: [number, number, number, number];
}

const conv2dBackpropInput: KernelFunc = (args) => {
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = args.attrs as unknown as Attrs;
  if (a.dataFormat === 'NCHW' || dy.dtype !== 'float32') return stockKernel('Conv2DBackpropInput', 'cpu')(args);
  const cpu = asCpu(args.backend);
  const g = convGeometry(a.inputShape, filter.shape, a);
  const plan = inputGradPlan(g);
  let input = f32(cpu, dy);
  if (hasPads(plan.pads)) {
    const p = plan.pads;
    const padded = new Float32Array(g.batch * (g.outHeight + p.top + p.bottom) * (g.outWidth + p.left + p.right) * g.outChannels);
    padInto(input, padded, dy.shape, p);
    input = padded;
  }
  const weights = new Float32Array(plan.tapOrder.length * g.inChannels * g.outChannels);
  arrangeInputGradWeights(f32(cpu, filter), weights, plan, g.inChannels, g.outChannels);
  const out = new Float32Array(util.sizeFromShape(a.inputShape));
  for (const phase of plan.phases) {
    directConv(phase.spec, { input, weights, weightOffset: phase.weightOffset, bias: null, out, outOffset: phase.outOffset });
  }
  return output(cpu, a.inputShape, out);
};

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'cpu',
  kernelFunc: conv2dBackpropInput,
};
