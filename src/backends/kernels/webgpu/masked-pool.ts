/**
 * MtlMaskedPool and MtlMaskedPoolGrad (see ../masked-pool) in WGSL. Without them the
 * text encoders pool through tfjs ops, whose max gradient hands dy to every tied
 * position (tfjs's Max gradient), where mtl's kernels (and PyTorch's max) give it to
 * the first maximum only: a text cnn over repeated tokens then trains differently on
 * webgpu than on wasm and cpu. One thread per output element:
 *
 *   forward  at[b,d] = first t with ids[b,t] > 0 maximizing x[b,t,d] (−1: no token), y from at
 *            (mean: y[b,d] = Σ x[b,t,d] / max(1, #tokens), at = 0)
 *   backward dx[b,t,d] = dy[b,d] where t = at[b,d] (mean: dy[b,d] / max(1, #tokens) on tokens)
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { MASKED_POOL, MASKED_POOL_GRAD, type PoolMode } from '../masked-pool';
import { elementwiseProgram, type WebGpuBackendLike } from './program';

const row = `let T = uniforms.xShape.y; let D = uniforms.xShape.z; let b = index / D; let d = index - b * D;`;

const forward: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, ids } = inputs as { x: TensorInfo; ids: TensorInfo };
  const { mode } = attrs as unknown as { mode: PoolMode };
  const gpu = backend as unknown as WebGpuBackendLike;
  const [B, , D] = x.shape;
  if (mode === 'mean') {
    const y = gpu.runWebGPUProgram(
      elementwiseProgram('maskedMeanPool', [B, D], ['X', 'I'], `${row}
        var sum = 0.0; var count = 0;
        for (var t = 0; t < T; t++) {
          if (f32(I[b * T + t]) > 0.0) { sum += X[(b * T + t) * D + d]; count++; }
        }
        setOutputAtIndex(index, sum / f32(max(1, count)));`),
      [x, ids], 'float32');
    const at = gpu.runWebGPUProgram(elementwiseProgram('zerosInt', [B, D], [], 'setOutputAtIndexI32(index, 0);'), [], 'int32');
    return [y, at];
  }
  const at = gpu.runWebGPUProgram(
    elementwiseProgram('maskedMaxPoolAt', [B, D], ['X', 'I'], `${row}
      var best = -1; var v = 0.0;
      for (var t = 0; t < T; t++) {
        if (f32(I[b * T + t]) > 0.0) {
          let xv = X[(b * T + t) * D + d];
          if (best < 0 || xv > v) { best = t; v = xv; }
        }
      }
      setOutputAtIndexI32(index, best);`),
    [x, ids], 'int32');
  const y = gpu.runWebGPUProgram(
    elementwiseProgram('maskedMaxPoolGather', [B, D], ['X', 'A'], `${row}
      let t = A[index];
      if (t < 0) { setOutputAtIndex(index, 0.0); } else { setOutputAtIndex(index, X[(b * T + t) * D + d]); }`),
    [x, at], 'float32');
  return [y, at];
};

const backward: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, ids, at } = inputs as { dy: TensorInfo; ids: TensorInfo; at: TensorInfo };
  const { mode } = attrs as unknown as { mode: PoolMode };
  const gpu = backend as unknown as WebGpuBackendLike;
  const [B, T] = ids.shape;
  const D = dy.shape[1];
  const where = `let T = uniforms.iShape.y; let D = uniforms.dyShape.y;
      let b = index / (T * D); let rest = index - b * T * D; let t = rest / D; let d = rest - t * D;`;
  if (mode === 'mean') {
    return gpu.runWebGPUProgram(
      elementwiseProgram('maskedMeanPoolGrad', [B, T, D], ['Dy', 'I'], `${where}
        if (f32(I[b * T + t]) > 0.0) {
          var count = 0;
          for (var s = 0; s < T; s++) { if (f32(I[b * T + s]) > 0.0) { count++; } }
          setOutputAtIndex(index, Dy[b * D + d] / f32(count));
        } else { setOutputAtIndex(index, 0.0); }`),
      [dy, ids], 'float32');
  }
  return gpu.runWebGPUProgram(
    elementwiseProgram('maskedMaxPoolGrad', [B, T, D], ['Dy', 'I', 'A'], `${where}
      if (A[b * D + d] == t && f32(I[b * T + t]) > 0.0) { setOutputAtIndex(index, Dy[b * D + d]); } else { setOutputAtIndex(index, 0.0); }`),
    [dy, ids, at], 'float32');
};

export const maskedPoolConfigs: KernelConfig[] = [
  { kernelName: MASKED_POOL, backendName: 'webgpu', kernelFunc: forward },
  { kernelName: MASKED_POOL_GRAD, backendName: 'webgpu', kernelFunc: backward },
];
