/**
 * MtlConv2DLayer: a convolution layer's training pass (x, filter, optional bias; linear
 * or relu), forward through the backend's FusedConv2D kernel (bias and relu inside mtl's
 * convolution, where tfjs-layers runs Conv2D, Add and Relu), with a registered gradient
 * whose input, filter and bias parts are each taken only where the backward pass needs
 * them. tf.fused.conv2d's gradient is a customGrad, computed whole: it takes the input
 * gradient of a network's first convolution too, though nothing trainable lies before it
 * (15 ms of a ResNet-50 step at 64x64, 5.5 ms of the ResNet-14's); and it does not fuse
 * relu while gradients are recorded. The relu's gradient is MtlReluGrad, one pass, bit
 * for bit the stock dy · step(y). Conv1D layers run through it on a [N, 1, W, C] view.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getGradient, getKernel, registerGradient, registerKernel, type KernelConfig, type NamedAttrMap } from '@tensorflow/tfjs-core';
import { backendHas } from './gradients';
import { RELU_GRAD } from './relu-grad';

export const CONV2D_LAYER = 'MtlConv2DLayer';

export type ConvLayerActivation = 'linear' | 'relu';

/** Whether MtlConv2DLayer computes a layer's call on this backend: float32, channels-last, no dilation, a linear or relu activation, 'same' or 'valid' padding. */
export function convLayerKernelApplies(x: tf.Tensor, layer: { dataFormat: string; dilationRate: number[]; activation: { getClassName(): string }; padding: string }): boolean {
  const activation = layer.activation.getClassName();
  return (
    x.dtype === 'float32' && layer.dataFormat === 'channelsLast' && layer.dilationRate.every((d) => d === 1) && (activation === 'linear' || activation === 'relu') &&
    (layer.padding === 'same' || layer.padding === 'valid') && getKernel(CONV2D_LAYER, tf.getBackend()) !== undefined
  );
}

export function conv2dLayerOp(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D | undefined, strides: [number, number], padding: 'same' | 'valid', activation: ConvLayerActivation): tf.Tensor4D {
  const inputs: tf.NamedTensorMap = bias ? { x, filter, bias } : { x, filter };
  return tf.engine().runKernel(CONV2D_LAYER, inputs, { strides, pad: padding, activation }) as tf.Tensor4D;
}

/** Registers the kernel for a host-memory backend (it runs that backend's FusedConv2D) and the gradient once. */
export function registerConv2DLayerKernel(backendName: 'wasm' | 'cpu'): void {
  const config: KernelConfig = {
    kernelName: CONV2D_LAYER,
    backendName,
    kernelFunc: (args) => getKernel('FusedConv2D', backendName)!.kernelFunc({ ...args, attrs: { ...args.attrs, dataFormat: 'NHWC', dilations: [1, 1] } }),
  };
  if (!getKernel(CONV2D_LAYER, backendName)) registerKernel(config);
  if (getGradient(CONV2D_LAYER)) return;
  registerGradient({
    kernelName: CONV2D_LAYER,
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
      const g = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor4D;
      const [x, filter, y] = saved as tf.Tensor4D[];
      // Every part needs the gradient before the relu: taken once, here.
      const dz = attrs.activation !== 'relu' ? g : backendHas(RELU_GRAD) ? (tf.engine().runKernel(RELU_GRAD, { dy: g, x: y }) as tf.Tensor4D) : tf.mul(g, tf.step(y));
      const conv = { strides: attrs.strides, pad: attrs.pad, dataFormat: 'NHWC' } as NamedAttrMap;
      return {
        x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: dz, filter }, { ...conv, inputShape: x.shape }) as tf.Tensor,
        filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dz }, { ...conv, filterShape: filter.shape }) as tf.Tensor,
        bias: () => tf.sum(dz, [0, 1, 2]),
      };
    },
  });
}
