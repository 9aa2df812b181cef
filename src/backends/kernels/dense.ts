/**
 * A dense layer (y = act(x·W + b), act linear or relu, x [N, K], W [K, M]) as one
 * kernel each way, where tfjs's fused matMul runs a dozen (reshapes to 3-d and back,
 * two transposed BatchMatMuls, a Sum for the bias, the activation's gradient) and the
 * wasm BatchMatMul builds an XNNPACK operator for every transposed product:
 *
 *   MtlDense      x, w (, bias) -> y
 *   MtlDenseGrad  dy, x, w (, y for relu) -> dx, dw (, db)
 *                 dz = relu ? dy·step(y) : dy,  dx = dz·Wᵀ,  dW = xᵀ·dz,  db = Σ_rows dz
 *
 * On wasm a generated SIMD product (wasm/simd/dense-gemm.ts), on cpu plain loops;
 * `denseLayerOp` composes them into a differentiable op (the layer in
 * src/models/layers/dense.ts uses it where the backend has the kernels).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { backendHas } from './gradients';
import { hostArrays, type HostArrays } from './host-arrays';
import { RELU_GRAD } from './relu-grad';
import { allocF32, asWasm, BackendWasm, heapF32, heapPtr, heapSlack, release, runWasmKernel, wasmMemory } from './wasm/backend';
import { kernelModule } from './wasm/simd/cache';
import { denseGemmModule, type DenseGemmSpec } from './wasm/simd/dense-gemm';

export const DENSE = 'MtlDense';
export const DENSE_GRAD = 'MtlDenseGrad';

export type DenseActivation = 'linear' | 'relu';

interface DenseAttrs {
  activation: DenseActivation;
}

interface DenseGradAttrs extends DenseAttrs {
  /** Whether the layer has a bias (and the kernel returns db). */
  bias: boolean;
}

/** C [rows, cols] = A·B with A's element (r, i) at a[r·aRow + i·aCol] (strides in floats), B [inner, cols]. */
function gemmLoop(a: Float32Array, aOff: number, aRow: number, aCol: number, b: Float32Array, bias: Float32Array | undefined, c: Float32Array, rows: number, inner: number, cols: number, relu: boolean): void {
  for (let r = 0; r < rows; r++) {
    const out = r * cols;
    if (bias) for (let j = 0; j < cols; j++) c[out + j] = bias[j];
    else c.fill(0, out, out + cols);
    for (let i = 0; i < inner; i++) {
      const s = a[aOff + r * aRow + i * aCol];
      if (s === 0) continue;
      const row = i * cols;
      for (let j = 0; j < cols; j++) c[out + j] += s * b[row + j];
    }
    if (relu) for (let j = 0; j < cols; j++) if (!(c[out + j] > 0) && !Number.isNaN(c[out + j])) c[out + j] = 0;
  }
}

function stepValue(v: number): number {
  return v > 0 ? 1 : v !== v ? NaN : 0;
}

function dims(x: TensorInfo, w: TensorInfo): { n: number; k: number; m: number } {
  return { n: x.shape[0], k: w.shape[0], m: w.shape[1] };
}

function cpuForward(arrays: HostArrays, x: TensorInfo, w: TensorInfo, bias: TensorInfo | undefined, relu: boolean): TensorInfo {
  const { n, k, m } = dims(x, w);
  const [y] = arrays.allocate([[n, m]]);
  gemmLoop(arrays.view(x), 0, k, 1, arrays.view(w), bias && arrays.view(bias), arrays.view(y), n, k, m, relu);
  return y;
}

function cpuGrad(arrays: HostArrays, dy: TensorInfo, x: TensorInfo, w: TensorInfo, y: TensorInfo | undefined, withBias: boolean): TensorInfo[] {
  const { n, k, m } = dims(x, w);
  const outs = arrays.allocate(withBias ? [[n, k], [k, m], [m]] : [[n, k], [k, m]]);
  const g = arrays.view(dy);
  const yv = y && arrays.view(y);
  const dz = yv ? g.map((v, i) => v * stepValue(yv[i])) : g;
  const wv = arrays.view(w);
  const wt = new Float32Array(k * m);
  for (let i = 0; i < k; i++) for (let j = 0; j < m; j++) wt[j * k + i] = wv[i * m + j];
  const xv = arrays.view(x);
  gemmLoop(dz, 0, m, 1, wt, undefined, arrays.view(outs[0]), n, m, k, false);
  gemmLoop(xv, 0, 1, k, dz, undefined, arrays.view(outs[1]), k, n, m, false);
  if (withBias) gemmLoop(new Float32Array([1]), 0, 0, 0, dz, undefined, arrays.view(outs[2]), 1, n, m, false);
  return outs;
}

function gemm(wasm: BackendWasm, spec: DenseGemmSpec, a: number, b: number, bias: number, c: number, rows: number, inner: number): void {
  kernelModule(wasmMemory(wasm), `dense-gemm:${JSON.stringify(spec)}`, () => denseGemmModule(spec)).gemm(a, b, bias, c, rows, inner);
}

/**
 * Operands the product reads a partial vector past (B's rows and the bias, when the
 * columns are not a multiple of four): in place where the heap extends past them,
 * else a padded copy (released by the caller).
 */
function padded(wasm: BackendWasm, t: TensorInfo, cols: number, scratch: TensorInfo[]): TensorInfo {
  if (cols % 4 === 0 || heapSlack(wasm, t)) return t;
  const n = t.shape.reduce((p, q) => p * q, 1);
  const copy = allocF32(wasm, [n + 4]);
  heapF32(wasm, copy).set(heapF32(wasm, t));
  scratch.push(copy);
  return copy;
}

function wasmForward(wasm: BackendWasm, x: TensorInfo, w: TensorInfo, bias: TensorInfo | undefined, relu: boolean): TensorInfo {
  const { n, k, m } = dims(x, w);
  const y = allocF32(wasm, [n, m]);
  const scratch: TensorInfo[] = [];
  const wIn = padded(wasm, w, m, scratch);
  const bIn = bias && padded(wasm, bias, m, scratch);
  gemm(wasm, { cols: m, aRow: 4 * k, aCol: 4, bias: bIn !== undefined, relu }, heapPtr(wasm, x), heapPtr(wasm, wIn), bIn ? heapPtr(wasm, bIn) : 0, heapPtr(wasm, y), n, k);
  release(wasm, ...scratch);
  return y;
}

function wasmGrad(wasm: BackendWasm, dy: TensorInfo, x: TensorInfo, w: TensorInfo, y: TensorInfo | undefined, withBias: boolean): TensorInfo[] {
  const { n, k, m } = dims(x, w);
  const dx = allocF32(wasm, [n, k]);
  const dw = allocF32(wasm, [k, m]);
  const db = withBias ? allocF32(wasm, [m]) : undefined;
  const scratch: TensorInfo[] = [];
  const dzRaw = y ? runWasmKernel(wasm, RELU_GRAD, { dy, x: y }, {}) : dy;
  if (dzRaw !== dy) scratch.push(dzRaw);
  const dz = padded(wasm, dzRaw, m, scratch);
  // Wᵀ [M, K] so that dx = dz·Wᵀ reads whole vectors of its rows; one more row of slack for a partial vector
  const wt = allocF32(wasm, [m * k + 4]);
  const one = allocF32(wasm, [4]);
  scratch.push(wt, one);
  const wv = heapF32(wasm, w);
  const wtv = heapF32(wasm, wt);
  for (let i = 0; i < k; i++) for (let j = 0; j < m; j++) wtv[j * k + i] = wv[i * m + j];
  heapF32(wasm, one)[0] = 1;
  const p = (t: TensorInfo) => heapPtr(wasm, t);
  gemm(wasm, { cols: k, aRow: 4 * m, aCol: 4, bias: false, relu: false }, p(dz), p(wt), 0, p(dx), n, m);
  gemm(wasm, { cols: m, aRow: 4, aCol: 4 * k, bias: false, relu: false }, p(x), p(dz), 0, p(dw), k, n);
  if (db) gemm(wasm, { cols: m, aRow: 0, aCol: 0, bias: false, relu: false }, p(one), p(dz), 0, p(db), 1, n);
  release(wasm, ...scratch);
  return db ? [dx, dw, db] : [dx, dw];
}

function kernelsFor(backendName: 'wasm' | 'cpu'): { forward: KernelFunc; grad: KernelFunc } {
  return {
    forward: ({ inputs, backend, attrs }) => {
      const { x, w, bias } = inputs as { x: TensorInfo; w: TensorInfo; bias?: TensorInfo };
      const relu = (attrs as unknown as DenseAttrs).activation === 'relu';
      return backendName === 'wasm' ? wasmForward(asWasm(backend), x, w, bias, relu) : cpuForward(hostArrays('cpu', backend), x, w, bias, relu);
    },
    grad: ({ inputs, backend, attrs }) => {
      const { dy, x, w, y } = inputs as { dy: TensorInfo; x: TensorInfo; w: TensorInfo; y?: TensorInfo };
      const { activation, bias } = attrs as unknown as DenseGradAttrs;
      const mask = activation === 'relu' ? y : undefined;
      return backendName === 'wasm' ? wasmGrad(asWasm(backend), dy, x, w, mask, bias) : cpuGrad(hostArrays('cpu', backend), dy, x, w, mask, bias);
    },
  };
}

/** Registers both kernels on a host-memory backend (idempotent). */
export function registerDenseKernels(backendName: 'wasm' | 'cpu'): void {
  const { forward, grad } = kernelsFor(backendName);
  const configs: KernelConfig[] = [
    { kernelName: DENSE, backendName, kernelFunc: forward },
    { kernelName: DENSE_GRAD, backendName, kernelFunc: grad },
  ];
  for (const config of configs) if (!tf.getKernel(config.kernelName, backendName)) tf.registerKernel(config);
}

/** True when the active backend runs dense layers of this input through the kernels above. */
export function denseKernelApplies(x: tf.Tensor, activation: string): boolean {
  return x.rank === 2 && x.dtype === 'float32' && (activation === 'linear' || activation === 'relu') && backendHas(DENSE);
}

/** act(x·W + b) with its gradient as one MtlDenseGrad kernel; check `denseKernelApplies` first. */
export function denseLayerOp(x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D | undefined, activation: DenseActivation): tf.Tensor2D {
  const relu = activation === 'relu';
  const forward = (inputs: Record<string, tf.Tensor>, save: tf.GradSaveFunc) => {
    const y = tf.engine().runKernel(DENSE, inputs, { activation }) as tf.Tensor2D;
    save(relu ? [inputs.x, inputs.w, y] : [inputs.x, inputs.w]);
    return y;
  };
  const grads = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [sx, sw, sy] = saved;
    const inputs: Record<string, tf.Tensor> = relu ? { dy, x: sx, w: sw, y: sy } : { dy, x: sx, w: sw };
    return tf.engine().runKernel(DENSE_GRAD, inputs, { activation, bias: bias !== undefined }) as tf.Tensor[];
  };
  if (bias === undefined) {
    const op = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => ({
      value: forward({ x: a, w: b }, save),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => grads(dy, saved),
    })) as unknown as Parameters<typeof tf.customGrad>[0]);
    return op(x, w) as tf.Tensor2D;
  }
  const op = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, save: tf.GradSaveFunc) => ({
    value: forward({ x: a, w: b, bias: c }, save),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => grads(dy, saved),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, w, bias) as tf.Tensor2D;
}
