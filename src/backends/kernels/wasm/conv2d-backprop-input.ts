/**
 * Conv2DBackpropInput for the wasm backend: per-tap products over the batch for
 * small images and 1x1 filters (./gather-conv), otherwise generated SIMD
 * convolutions (./run-conv), one per stride phase (see inputGradPlan in ../conv-plans).
 */
import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { ConvGradAttrs, convGeometry } from '../conv-geometry';
import { arrangeInputGradWeights, inputGradPlan } from '../conv-plans';
import { allocF32, asWasm, heapF32, release } from './backend';
import { gatherApplies, gatherInputGrad } from './gather-conv';
import { padImage } from './pad';
import { runConv } from './run-conv';

interface Attrs extends ConvGradAttrs {
  inputShape: [number, number, number, number];
}

const conv2dBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as Attrs;
  const g = convGeometry(a.inputShape, filter.shape, a);
  if (gatherApplies(g, 'input')) return gatherInputGrad(wasm, g, dy, filter);
  const plan = inputGradPlan(g);
  const padded = padImage(wasm, dy, plan.pads);
  const wt = allocF32(wasm, [Math.max(1, plan.tapOrder.length), g.outChannels, g.inChannels]);
  const out = allocF32(wasm, [g.batch, g.inHeight, g.inWidth, g.inChannels]);
  arrangeInputGradWeights(heapF32(wasm, filter), heapF32(wasm, wt), plan, g.inChannels, g.outChannels);
  if (plan.zeroFirst) heapF32(wasm, out).fill(0);
  for (const phase of plan.phases) {
    runConv(wasm, phase.spec, { input: padded, weights: wt, weightOffset: phase.weightOffset, out, outOffset: phase.outOffset });
  }
  release(wasm, wt);
  if (padded !== dy) release(wasm, padded);
  return out;
};

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput,
};
