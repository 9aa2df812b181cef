/**
 * What mtl's layers share: for those that stand in for tfjs-layers' own (Dense, Conv1D,
 * Conv2D, BatchNormalization), the stock class to extend and the single input of a
 * call; for every one, the registration that makes deserialized models use it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ConvLayerActivation } from '../../backends/kernels/conv2d-layer';

/** tfjs-layers exports only a factory; a layer's class is reached through an instance made with `probe`. */
export function stockLayerClass<A>(factory: (args: A) => tfl.layers.Layer, probe: A): new (args: A) => tfl.layers.Layer {
  return Object.getPrototypeOf(factory(probe)).constructor as new (args: A) => tfl.layers.Layer;
}

/** Registers a layer class for deserialization under its class name (a replacement's: the stock one). */
export function registerLayer(layer: abstract new (...args: never[]) => tfl.layers.Layer): void {
  tf.serialization.registerClass(layer as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
}

/** The one input tensor of a call, or undefined when there are several. */
export function singleInput(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | undefined {
  return Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : undefined) : inputs;
}

/** The fields of tfjs-layers' convolution layers that mtl's replacements read. */
export interface ConvLayerInternals {
  kernel: tfl.LayerVariable;
  bias: tfl.LayerVariable | null;
  activation: { getClassName(): string };
  strides: number[];
  padding: string;
  dilationRate: number[];
  dataFormat: string;
}

/** What MtlConv2DLayer takes from a convolution layer besides its input and kernel. */
export function convLayerOperands(layer: ConvLayerInternals): { bias: tf.Tensor1D | undefined; padding: 'same' | 'valid'; activation: ConvLayerActivation } {
  return {
    bias: layer.bias ? (layer.bias.read() as tf.Tensor1D) : undefined,
    padding: layer.padding as 'same' | 'valid',
    activation: layer.activation.getClassName() as ConvLayerActivation,
  };
}
