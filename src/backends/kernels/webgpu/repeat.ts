/**
 * MtlRepeat (see ../repeat) in WGSL: x viewed as [outer, 1, inner] -> [outer, reps, inner],
 * one thread per output element. Mean's and Sum's gradients (reduce-gradients.ts) use it
 * where the stock ones multiply dy by a tensor of ones made on the host and uploaded.
 */
import { type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { REPEAT, repeatGeometry } from '../repeat';
import { elementwiseProgram, type WebGpuBackendLike } from './program';

const repeat: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: TensorInfo };
  const shape = attrs?.shape as number[];
  const geometry = repeatGeometry(x.shape, shape);
  if (geometry === null) throw new Error(`${REPEAT}: cannot repeat ${JSON.stringify(x.shape)} to ${JSON.stringify(shape)}`);
  const [, reps, inner] = geometry;
  const gpu = backend as unknown as WebGpuBackendLike;
  const program = elementwiseProgram(
    `repeat${shape.length}`,
    shape,
    ['X'],
    'let o = index / (uniforms.reps * uniforms.inner); let k = index - (index / uniforms.inner) * uniforms.inner; setOutputAtIndex(index, X[o * uniforms.inner + k]);',
    'reps : i32, inner : i32,',
  );
  return gpu.runWebGPUProgram(program, [x], 'float32', [{ type: 'int32', data: [reps] }, { type: 'int32', data: [inner] }]);
};

export const repeatConfig: KernelConfig = { kernelName: REPEAT, backendName: 'webgpu', kernelFunc: repeat };
