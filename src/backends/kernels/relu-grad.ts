/**
 * Relu's gradient as one kernel, MtlReluGrad(dy, x) -> dy · step(x), where the
 * stock gradient runs Step (a full-size mask), Cast and Multiply: one pass instead
 * of three over every activation a ResNet's ReLUs saved. step(x) is 1 for x > 0, NaN
 * for NaN and 0 otherwise, so dy · step(x) is the stock result bit for bit (NaN and
 * infinite dy included). On wasm a SIMD loop on the heap, on cpu a plain loop; the
 * gradient override defers to the stock gradient on other backends.
 */
import { engine, GradConfig, KernelConfig, KernelFunc, registerKernel, getKernel, Tensor, TensorInfo, util } from '@tensorflow/tfjs-core';
import { backendHas, replaceGradient, stockGradient } from './gradients';
import { hostArrays } from './host-arrays';
import { elementwise, elementwiseModule } from './elementwise';
import { pushReluStep } from './wasm/simd/relu-step';

export const RELU_GRAD = 'MtlReluGrad';

/** `reluGrad(dy, x, vectors, out)` over groups of four floats. */
function reluGradModule(): Uint8Array {
  return elementwiseModule('reluGrad', (f, dy, x) => {
    f.get(dy);
    pushReluStep(f, true, x);
    f.f32x4Mul();
  });
}

/** Relu's step: 1 above 0, NaN for NaN, else 0. */
export function stepValue(v: number): number {
  return v > 0 ? 1 : v !== v ? NaN : 0;
}

const simd = { key: 'relu-grad', generate: reluGradModule, name: 'reluGrad' };

function kernelFor(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend }) => {
    const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
    const [out] = hostArrays(backendName, backend).allocate([x.shape]);
    elementwise(backendName, backend, dy, x, out, simd, (g, v) => g * stepValue(v));
    return out;
  };
}

const reluGrad: GradConfig = {
  kernelName: 'Relu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const g = dy as Tensor;
    if (!backendHas(RELU_GRAD) || x.dtype !== 'float32' || g.dtype !== 'float32' || !util.arraysEqual(x.shape, g.shape)) {
      return stockGradient('Relu').gradFunc(dy, saved, attrs);
    }
    return { x: () => engine().runKernel(RELU_GRAD, { dy: g, x }) as Tensor };
  },
};

/** Registers the kernel for a host-memory backend and the gradient override (both idempotent). */
export function registerReluGradient(backendName: 'wasm' | 'cpu'): void {
  const config: KernelConfig = { kernelName: RELU_GRAD, backendName, kernelFunc: kernelFor(backendName) };
  if (!getKernel(RELU_GRAD, backendName)) registerKernel(config);
  replaceGradient(reluGrad);
}
