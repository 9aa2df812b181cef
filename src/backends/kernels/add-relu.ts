/**
 * MtlAddRelu(a, b) -> max(a + b, 0) over two float32 tensors of one shape: a residual
 * block's Add and the Relu after it in one pass, at inference (models/inference-fold.ts),
 * where tfjs writes the sum and then reads it back for the Relu (ResNet-50 inference: 4%
 * of its time in those Relus). The same float32 sums and maxima as the two kernels. On wasm
 * a SIMD loop on the heap, on cpu a plain loop; `addRelu` composes the two ops elsewhere.
 * With `overwriteA`, the caller promises nothing reads `a` afterwards: where no other tensor
 * shares a's memory either, the result is written over it (no new activation-sized block,
 * which the heap would otherwise grow for at each residual block).
 *
 * In training (models/training-fusion.ts) its gradient is relu's, taken from the output
 * (out > 0 exactly where a + b > 0), for both inputs: one MtlReluGrad pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getGradient, getKernel, registerGradient, registerKernel, util, type KernelConfig, type KernelFunc, type Tensor, type TensorInfo } from '@tensorflow/tfjs-core';
import { backendHas } from './gradients';
import { RELU_GRAD } from './relu-grad';
import { hostArrays } from './host-arrays';
import { elementwise, elementwiseModule } from './elementwise';

export const ADD_RELU = 'MtlAddRelu';

/** `addRelu(a, b, vectors, out)` over groups of four floats. */
function addReluModule(): Uint8Array {
  return elementwiseModule('addRelu', (f, a, b) => f.get(a).get(b).f32x4Add().v128Zero().f32x4Max());
}

interface Attrs {
  overwriteA?: boolean;
}

const simd = { key: 'add-relu', generate: addReluModule, name: 'addRelu' };

function kernelFor(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const shared = backend as unknown as { refCount(id: unknown): number; incRef(id: unknown): void };
    const overwrite = (attrs as Attrs).overwriteA === true && shared.refCount(a.dataId) === 1;
    if (overwrite) shared.incRef(a.dataId);
    const [out] = overwrite ? [{ dataId: a.dataId, shape: a.shape, dtype: a.dtype }] : hostArrays(backendName, backend).allocate([a.shape]);
    elementwise(backendName, backend, a, b, out, simd, (x, y) => {
      const s = x + y;
      return s < 0 ? 0 : s;
    });
    return out;
  };
}

/** relu(a + b): one kernel where the backend has it and the operands match, else Add then Relu. `overwriteA`: see above. */
export function addRelu(a: tf.Tensor, b: tf.Tensor, overwriteA = false): tf.Tensor {
  if (backendHas(ADD_RELU) && a.dtype === 'float32' && b.dtype === 'float32' && util.arraysEqual(a.shape, b.shape)) {
    return tf.engine().runKernel(ADD_RELU, { a, b }, { overwriteA } as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  return tf.relu(tf.add(a, b));
}

/** Registers the kernel for a host-memory backend, and its gradient once (idempotent). */
export function registerAddReluKernel(backendName: 'wasm' | 'cpu'): void {
  const config: KernelConfig = { kernelName: ADD_RELU, backendName, kernelFunc: kernelFor(backendName) };
  if (!getKernel(ADD_RELU, backendName)) registerKernel(config);
  if (!getGradient(ADD_RELU)) {
    registerGradient({
      kernelName: ADD_RELU,
      outputsToSave: [true],
      gradFunc: (dys: Tensor | Tensor[], saved: Tensor[]) => {
        const dy = Array.isArray(dys) ? dys[0] : dys;
        const dSum = tf.engine().runKernel(RELU_GRAD, { dy, x: saved[0] }) as Tensor;
        // A handle each: the backward pass may add one input's gradient into another and dispose it.
        return { a: () => dSum, b: () => tf.clone(dSum) };
      },
    });
  }
}
