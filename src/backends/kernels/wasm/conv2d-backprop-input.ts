/**
 * Conv2DBackpropInput for the wasm backend: generated SIMD direct convolutions
 * (simd/direct-conv), one per stride phase (see inputGradPlan in ../conv-plans).
 */
import { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { ConvGradAttrs, convGeometry } from '../conv-geometry';
import { arrangeInputGradWeights, inputGradPlan } from '../conv-plans';
import { allocF32, asWasm, heapF32, heapPtr, heapSlack, release, wasmMemory } from './backend';
import { padImage } from './pad';
import { kernelModule } from './simd/cache';
import { directConvModule } from './simd/direct-conv';

interface Attrs extends ConvGradAttrs {
  inputShape: [number, number, number, number];
}

const conv2dBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as Attrs;
  const g = convGeometry(a.inputShape, filter.shape, a);
  const plan = inputGradPlan(g);
  const padded = padImage(wasm, dy, plan.pads);
  const wt = allocF32(wasm, [Math.max(1, plan.tapOrder.length), g.outChannels, g.inChannels]);
  const out = allocF32(wasm, [g.batch, g.inHeight, g.inWidth, g.inChannels]);
  arrangeInputGradWeights(heapF32(wasm, filter), heapF32(wasm, wt), plan, g.inChannels, g.outChannels);
  if (plan.zeroFirst) heapF32(wasm, out).fill(0);
  const memory = wasmMemory(wasm);
  const maskedTail = heapSlack(wasm, out, wt);
  for (const phase of plan.phases) {
    const spec = { ...phase.spec, maskedTail };
    const kernel = kernelModule(memory, `conv:${JSON.stringify(spec)}`, () => directConvModule(spec));
    kernel.conv(heapPtr(wasm, padded), heapPtr(wasm, wt) + 4 * phase.weightOffset, 0, heapPtr(wasm, out) + 4 * phase.outOffset);
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
