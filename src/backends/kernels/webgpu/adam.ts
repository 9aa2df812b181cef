/**
 * MtlAdam (see ../adam) in WGSL: the update of one weight as three dispatches (m', v',
 * then w' from them) where tfjs's Adam runs about ten kernels and an assign per weight.
 * The bias-corrected constants come from the host, as on wasm and cpu.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { ADAM, type AdamAttrs } from '../adam';
import { elementwiseProgram, type WebGpuBackendLike } from './program';

const adam: KernelFunc = ({ inputs, backend, attrs }) => {
  const { w, g, m, v } = inputs as Record<'w' | 'g' | 'm' | 'v', TensorInfo>;
  const a = attrs as unknown as AdamAttrs;
  const gpu = backend as unknown as WebGpuBackendLike;
  const scaled = a.learningRate / (1 - a.beta1 ** a.step);
  const s = 1 / Math.sqrt(1 - a.beta2 ** a.step);
  // One entry per scalar: tfjs aligns an entry of two values as a vec2.
  const f = (data: number[]) => data.map((value) => ({ type: 'float32', data: [value] }));
  const m2 = gpu.runWebGPUProgram(
    elementwiseProgram('adamM', w.shape, ['M', 'G'], 'setOutputAtIndex(index, uniforms.b * M[index] + uniforms.c * G[index]);', 'b : f32, c : f32,'),
    [m, g], 'float32', f([a.beta1, 1 - a.beta1]));
  const v2 = gpu.runWebGPUProgram(
    elementwiseProgram('adamV', w.shape, ['V', 'G'], 'let gi = G[index]; setOutputAtIndex(index, uniforms.b * V[index] + uniforms.c * gi * gi);', 'b : f32, c : f32,'),
    [v, g], 'float32', f([a.beta2, 1 - a.beta2]));
  const w2 = gpu.runWebGPUProgram(
    elementwiseProgram('adamW', w.shape, ['W', 'M', 'V'], 'setOutputAtIndex(index, W[index] - (uniforms.a * M[index]) / (uniforms.s * sqrt(V[index]) + uniforms.eps));', 'a : f32, s : f32, eps : f32,'),
    [w, m2, v2], 'float32', f([scaled, s, a.epsilon]));
  return [w2, m2, v2];
};

export const adamConfig: KernelConfig = { kernelName: ADAM, backendName: 'webgpu', kernelFunc: adam };
