/**
 * tfjs-layers' Dense, whose forward pass and gradient are one kernel each
 * (MtlDense, MtlDenseGrad: src/backends/kernels/dense.ts) in training mode on backends
 * that have them, for 2-d inputs with a linear or relu activation; everything else
 * takes the stock layer's path. Inference stays stock so that a checkpoint predicts
 * bit for bit what stock tfjs computes from the same files (mtl export, tf.loadLayersModel). It keeps the class name 'Dense', its weights
 * and its config, so saved models stay ordinary tfjs/Keras layers models;
 * registering it makes deserialized models use it too.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { denseKernelApplies, denseLayerOp, type DenseActivation } from '../../backends/kernels/dense';
import { registerLayer, singleInput, stockLayerClass } from './stock-layer';

interface DenseInternals {
  kernel: tfl.LayerVariable;
  bias: tfl.LayerVariable | null;
  activation: { getClassName(): string };
}

type LayerArgs = Parameters<typeof tfl.layers.dense>[0];
type Kwargs = Record<string, unknown>;

const StockDense = stockLayerClass<LayerArgs>(tfl.layers.dense, { units: 1, name: 'mtl_probe_dense' });

export class FusedDense extends StockDense {
  static className = 'Dense';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as DenseInternals;
    const x = singleInput(inputs);
    const activation = self.activation.getClassName();
    if (!kwargs.training || !x || !denseKernelApplies(x, activation)) return super.call(inputs, kwargs);
    return denseLayerOp(x as tf.Tensor2D, self.kernel.read() as tf.Tensor2D, self.bias ? (self.bias.read() as tf.Tensor1D) : undefined, activation as DenseActivation);
  }
}

registerLayer(FusedDense);

export function dense(args: LayerArgs): tfl.layers.Layer {
  return new FusedDense(args);
}
