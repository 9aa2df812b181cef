/**
 * Mean and Sum gradients that broadcast dy with the MtlRepeat kernel where the
 * active backend has it; the stock ones multiply dy by ones(x.shape), made in JS
 * and uploaded on every call (12% of a ResNet step on wasm).
 */
import { div, engine, GradConfig, NamedAttrMap, reshape, Tensor, util } from '@tensorflow/tfjs-core';
import { backendHas, replaceGradient, stockGradient } from './gradients';
import { REPEAT, repeatGeometry } from './repeat';

function reduceGrad(kernelName: 'Mean' | 'Sum'): GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [x] = saved;
      const axes = util.parseAxisParam(attrs.axis as number | number[], x.shape);
      const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      if (!backendHas(REPEAT) || x.dtype !== 'float32' || repeatGeometry(expanded, x.shape) === null) {
        return stockGradient(kernelName).gradFunc(dy, saved, attrs);
      }
      const g = dy as Tensor;
      return {
        x: () => {
          const size = util.sizeFromShape(axes.map((a) => x.shape[a]));
          const scaled = kernelName === 'Mean' ? div(reshape(g, expanded), size) : reshape(g, expanded);
          return engine().runKernel(REPEAT, { x: scaled }, { shape: x.shape }) as Tensor;
        },
      };
    },
  };
}

const meanGrad = reduceGrad('Mean');
const sumGrad = reduceGrad('Sum');

/** Installs the Mean and Sum gradient overrides (idempotent). */
export function registerReduceGradients(): void {
  replaceGradient(meanGrad);
  replaceGradient(sumGrad);
}
