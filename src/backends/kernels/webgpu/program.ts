/**
 * What mtl's WGSL kernels need of tfjs-backend-webgpu 4.22: its program runner, which
 * declares the inputs (`var<storage, read> X: array<f32>`), the output (`result`, set
 * with setOutputAtIndex), the shapes as uniforms (`uniforms.xShape`, `uniforms.outShape`)
 * and `uniforms.size`, and calls `fn main(index: i32)` once per output element.
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

export interface WebGpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size: boolean;
  /** Extra uniforms, WGSL struct fields: `lr : f32, n : i32, `. */
  uniforms?: string;
  getUserCode(): string;
}

export interface WebGpuBackendLike {
  device: { limits: Record<string, number> };
  tensorMap: { get(dataId: object): { values: unknown; resource?: unknown; dtype: DataType } };
  runWebGPUProgram(program: WebGpuProgram, inputs: TensorInfo[], outputDtype: DataType, uniforms?: { type: string; data: number[] }[], output?: TensorInfo): TensorInfo;
  makeTensorInfo(shape: number[], dtype: DataType, values?: unknown): TensorInfo;
  shouldExecuteOnCPU(inputs: TensorInfo[]): boolean;
  disposeData(dataId: object): void;
}

interface WebGpuUtil {
  flatDispatchLayout(shape: number[]): { x: number[] };
  computeDispatch(layout: { x: number[] }, shape: number[], workgroupSize: number[]): [number, number, number];
}

function util(): WebGpuUtil {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('@tensorflow/tfjs-backend-webgpu') as { webgpu_util: WebGpuUtil }).webgpu_util;
}

/**
 * A program with one thread per output element; `body` is WGSL inside `main(index)`
 * after `if (index < uniforms.size)`. `key` must name everything the code depends on
 * besides the shapes and dtypes (tfjs adds those).
 */
export function elementwiseProgram(key: string, outputShape: number[], variableNames: string[], body: string, uniforms?: string): WebGpuProgram {
  const { flatDispatchLayout, computeDispatch } = util();
  const workgroupSize: [number, number, number] = [64, 1, 1];
  const dispatchLayout = flatDispatchLayout(outputShape);
  return {
    variableNames,
    outputShape,
    shaderKey: `mtl_${key}`,
    dispatchLayout,
    dispatch: computeDispatch(dispatchLayout, outputShape, workgroupSize),
    workgroupSize,
    size: true,
    uniforms,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }
    `,
  };
}

export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
