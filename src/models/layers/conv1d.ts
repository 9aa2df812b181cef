/**
 * tfjs-layers' Conv1D, whose training pass is MtlConv2DLayer over a [N, 1, W, C] view
 * (src/backends/kernels/conv2d-layer.ts: one FusedConv2D with bias and relu inside, where
 * tfjs-layers runs Conv2D, then Add, then Relu) for channels-last layers without dilation
 * and with a linear or relu activation; everything else, and inference (so that a
 * checkpoint predicts bit for bit what stock tfjs computes from the same files), takes
 * the stock path. It keeps the class name 'Conv1D', its weights and its config, so saved
 * models stay ordinary tfjs/Keras layers models; registering it makes deserialized
 * models use it too.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { conv2dLayerOp, convLayerKernelApplies } from '../../backends/kernels/conv2d-layer';
import { convLayerOperands, registerLayer, singleInput, stockLayerClass, type ConvLayerInternals } from './stock-layer';

type LayerArgs = Parameters<typeof tfl.layers.conv1d>[0];

const StockConv1D = stockLayerClass<LayerArgs>(tfl.layers.conv1d, { filters: 1, kernelSize: 1, name: 'mtl_probe_conv1d' });

export class FusedConv1D extends StockConv1D {
  static className = 'Conv1D';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as ConvLayerInternals;
    const x = singleInput(inputs);
    if (!kwargs.training || x?.rank !== 3 || !convLayerKernelApplies(x, self)) return super.call(inputs, kwargs);
    const [n, width, channels] = x.shape as [number, number, number];
    const kernel = self.kernel.read();
    const [size, , filters] = kernel.shape as [number, number, number];
    const { bias, padding, activation } = convLayerOperands(self);
    const y = conv2dLayerOp(tf.reshape(x, [n, 1, width, channels]), tf.reshape(kernel, [1, size, channels, filters]), bias, [1, self.strides[0]], padding, activation);
    return tf.reshape(y, [n, y.shape[2], filters]);
  }
}

registerLayer(FusedConv1D);

export function conv1d(args: LayerArgs): tfl.layers.Layer {
  return new FusedConv1D(args);
}
