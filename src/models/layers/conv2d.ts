/**
 * tfjs-layers' Conv2D, whose training pass is MtlConv2DLayer (src/backends/kernels/
 * conv2d-layer.ts: FusedConv2D forward with bias and relu inside, a gradient that skips
 * the input gradient where nothing needs it) for channels-last layers without dilation
 * and with a linear or relu activation; everything else, and inference, takes the stock
 * path. It keeps the class name 'Conv2D', its weights and its config, so saved models stay
 * ordinary tfjs/Keras layers models; registering it makes deserialized models use it too.
 */
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { conv2dLayerOp, convLayerKernelApplies } from '../../backends/kernels/conv2d-layer';
import { convLayerOperands, registerLayer, singleInput, stockLayerClass, type ConvLayerInternals } from './stock-layer';

type LayerArgs = Parameters<typeof tfl.layers.conv2d>[0];

const StockConv2D = stockLayerClass<LayerArgs>(tfl.layers.conv2d, { filters: 1, kernelSize: 1, name: 'mtl_probe_conv2d' });

export class TrainingConv2D extends StockConv2D {
  static className = 'Conv2D';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as ConvLayerInternals;
    const x = singleInput(inputs);
    if (!kwargs.training || x?.rank !== 4 || !convLayerKernelApplies(x, self)) return super.call(inputs, kwargs);
    const { bias, padding, activation } = convLayerOperands(self);
    return conv2dLayerOp(x as tf.Tensor4D, self.kernel.read() as tf.Tensor4D, bias, [self.strides[0], self.strides[1]], padding, activation);
  }
}

registerLayer(TrainingConv2D);

export function conv2d(args: LayerArgs): tfl.layers.Layer {
  return new TrainingConv2D(args);
}
