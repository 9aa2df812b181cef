/**
 * Multiply, Add, Sub and RealDiv for the wasm backend when one operand is a
 * per-channel vector ([C] or [1,..,1,C]) broadcast over the other ([.., C]), as
 * batch norm's ops and gradients produce: one SIMD pass instead of the stock
 * kernels' generic broadcasting; and Add of two float32 tensors of one shape (a
 * residual block's sum and its gradient's), split over the kernel threads where there
 * are some. Other cases go to the stock kernels.
 */
import { KernelConfig, KernelFunc, TensorInfo, util } from '@tensorflow/tfjs-core';
import { channelBroadcast } from '../patterns';
import { stockKernel } from '../register';
import { allocF32, asWasm, heapPtr } from './backend';
import { channelOps } from './channel-ops';
import { elementwise, elementwiseModule } from '../elementwise';

/** `add(a, b, vectors, out)` over groups of four floats. */
const addModule = () => elementwiseModule('add', (f, a, b) => f.get(a).get(b).f32x4Add());

const simdAdd = { key: 'add', generate: addModule, name: 'add' };

type Name = 'Multiply' | 'Add' | 'Sub' | 'RealDiv';

/** Export to call when the full operand comes first, and when the vector does. */
const OPS: Record<Name, ['mulVec' | 'addVec' | 'subVec' | 'divVec', 'mulVec' | 'addVec' | 'vecSub' | 'vecDiv']> = {
  Multiply: ['mulVec', 'mulVec'],
  Add: ['addVec', 'addVec'],
  Sub: ['subVec', 'vecSub'],
  RealDiv: ['divVec', 'vecDiv'],
};

function binary(name: Name): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const operands = channelBroadcast(a, b);
    if (operands === null && name === 'Add' && a.dtype === 'float32' && b.dtype === 'float32' && util.arraysEqual(a.shape, b.shape)) {
      const out = allocF32(asWasm(args.backend), a.shape);
      elementwise('wasm', args.backend, a, b, out, simdAdd, (x, y) => x + y);
      return out;
    }
    if (operands === null) return stockKernel(name, 'wasm')(args);
    const { full, vec, vectorFirst } = operands;
    const c = full.shape[full.shape.length - 1];
    const wasm = asWasm(args.backend);
    const out = allocF32(wasm, full.shape);
    const fn = channelOps(wasm, c)[OPS[name][vectorFirst ? 1 : 0]];
    fn(heapPtr(wasm, full), heapPtr(wasm, vec), util.sizeFromShape(full.shape) / c, heapPtr(wasm, out));
    return out;
  };
}

export const binaryConfigs: KernelConfig[] = (['Multiply', 'Add', 'Sub', 'RealDiv'] as Name[]).map((name) => ({
  kernelName: name,
  backendName: 'wasm',
  kernelFunc: binary(name),
}));
