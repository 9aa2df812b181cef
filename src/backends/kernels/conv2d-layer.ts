/**
 * MtlConv2DLayer: a Conv2D layer's training pass (x, filter, optional bias; linear),
 * forward through the backend's FusedConv2D kernel, with a registered gradient whose
 * three parts are taken only where the backward pass needs them. tf.fused.conv2d's
 * gradient (tfjs-layers' Conv2D) is a customGrad, computed whole: it takes the input
 * gradient of a network's first convolution too, though nothing trainable lies before
 * it (15 ms of a ResNet-50 step at 64x64, 5.5 ms of the ResNet-14's).
 */
import * as tf from '@tensorflow/tfjs-core';
import { getGradient, getKernel, registerGradient, registerKernel, type KernelConfig, type NamedAttrMap } from '@tensorflow/tfjs-core';

export const CONV2D_LAYER = 'MtlConv2DLayer';

export function conv2dLayerOp(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D | undefined, strides: [number, number], padding: 'same' | 'valid'): tf.Tensor4D {
  const inputs: tf.NamedTensorMap = bias ? { x, filter, bias } : { x, filter };
  return tf.engine().runKernel(CONV2D_LAYER, inputs, { strides, pad: padding }) as tf.Tensor4D;
}

/** Registers the kernel for a host-memory backend (it runs that backend's FusedConv2D) and the gradient once. */
export function registerConv2DLayerKernel(backendName: 'wasm' | 'cpu'): void {
  const config: KernelConfig = {
    kernelName: CONV2D_LAYER,
    backendName,
    kernelFunc: (args) => getKernel('FusedConv2D', backendName)!.kernelFunc({ ...args, attrs: { ...args.attrs, dataFormat: 'NHWC', dilations: [1, 1], activation: 'linear' } }),
  };
  if (!getKernel(CONV2D_LAYER, backendName)) registerKernel(config);
  if (getGradient(CONV2D_LAYER)) return;
  registerGradient({
    kernelName: CONV2D_LAYER,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
      const g = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor4D;
      const [x, filter] = saved as tf.Tensor4D[];
      const conv = { strides: attrs.strides, pad: attrs.pad, dataFormat: 'NHWC' } as NamedAttrMap;
      return {
        x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: g, filter }, { ...conv, inputShape: x.shape }) as tf.Tensor,
        filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: g }, { ...conv, filterShape: filter.shape }) as tf.Tensor,
        bias: () => tf.sum(g, [0, 1, 2]),
      };
    },
  });
}
