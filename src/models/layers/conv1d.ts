/**
 * tfjs-layers' Conv1D, whose training pass is one fused kernel forward (bias and relu
 * inside the convolution: src/backends/kernels/conv1d.ts) for channels-last layers with
 * a bias and a linear or relu activation; everything else, and inference (so that a
 * checkpoint predicts bit for bit what stock tfjs computes from the same files), takes
 * the stock path. It keeps the class name 'Conv1D', its weights and its config, so saved
 * models stay ordinary tfjs/Keras layers models; registering it makes deserialized
 * models use it too.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { conv1dKernelApplies, conv1dLayerOp } from '../../backends/kernels/conv1d';

interface Conv1DInternals {
  kernel: tfl.LayerVariable;
  bias: tfl.LayerVariable | null;
  activation: { getClassName(): string };
  strides: number[];
  padding: string;
  dilationRate: number[];
  dataFormat: string;
}

type LayerArgs = Parameters<typeof tfl.layers.conv1d>[0];
type Kwargs = Record<string, unknown>;

// tfjs-layers exports only a factory; its class is reached through an instance.
const StockConv1D = Object.getPrototypeOf(tfl.layers.conv1d({ filters: 1, kernelSize: 1, name: 'mtl_probe_conv1d' })).constructor as new (args: LayerArgs) => tfl.layers.Layer;

export class FusedConv1D extends StockConv1D {
  static className = 'Conv1D';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as Conv1DInternals;
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const activation = self.activation.getClassName();
    const padding = self.padding;
    if (!kwargs.training || (Array.isArray(inputs) && inputs.length !== 1) || (padding !== 'same' && padding !== 'valid') || !conv1dKernelApplies(x, activation, self.bias !== null, self.dilationRate[0], self.dataFormat)) {
      return super.call(inputs, kwargs);
    }
    return conv1dLayerOp(x as tf.Tensor3D, self.kernel.read() as tf.Tensor3D, self.bias!.read() as tf.Tensor1D, self.strides[0], padding, activation);
  }
}

tf.serialization.registerClass(FusedConv1D as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);

export function conv1d(args: LayerArgs): tfl.layers.Layer {
  return new FusedConv1D(args);
}
