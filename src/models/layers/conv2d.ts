/**
 * tfjs-layers' Conv2D, whose training pass is MtlConv2DLayer (src/backends/kernels/
 * conv2d-layer.ts: FusedConv2D forward, a gradient that skips the input gradient where
 * nothing needs it) for channels-last layers without dilation and with a linear
 * activation; everything else, and inference, takes the stock path. It keeps the class
 * name 'Conv2D', its weights and its config, so saved models stay ordinary tfjs/Keras
 * layers models; registering it makes deserialized models use it too.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { CONV2D_LAYER, conv2dLayerOp } from '../../backends/kernels/conv2d-layer';

interface Conv2DInternals {
  kernel: tfl.LayerVariable;
  bias: tfl.LayerVariable | null;
  activation: { getClassName(): string };
  strides: number[];
  padding: string;
  dilationRate: number[];
  dataFormat: string;
}

type LayerArgs = Parameters<typeof tfl.layers.conv2d>[0];
type Kwargs = Record<string, unknown>;

// tfjs-layers exports only a factory; its class is reached through an instance.
const StockConv2D = Object.getPrototypeOf(tfl.layers.conv2d({ filters: 1, kernelSize: 1, name: 'mtl_probe_conv2d' })).constructor as new (args: LayerArgs) => tfl.layers.Layer;

export class TrainingConv2D extends StockConv2D {
  static className = 'Conv2D';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as Conv2DInternals;
    const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : undefined) : inputs;
    const { padding, dilationRate } = self;
    const applies =
      kwargs.training && x?.rank === 4 && x.dtype === 'float32' && self.dataFormat === 'channelsLast' && dilationRate.every((d) => d === 1) &&
      self.activation.getClassName() === 'linear' && (padding === 'same' || padding === 'valid') && tf.getKernel(CONV2D_LAYER, tf.getBackend()) !== undefined;
    if (!applies) return super.call(inputs, kwargs);
    return conv2dLayerOp(x as tf.Tensor4D, self.kernel.read() as tf.Tensor4D, self.bias ? (self.bias.read() as tf.Tensor1D) : undefined, [self.strides[0], self.strides[1]], padding);
  }
}

tf.serialization.registerClass(TrainingConv2D as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);

export function conv2d(args: LayerArgs): tfl.layers.Layer {
  return new TrainingConv2D(args);
}
