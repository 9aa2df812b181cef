/**
 * Batch normalization whose training-mode gradient is one fused formula instead
 * of tfjs's generic chain (moments, then batchNorm, whose gradient tiles every
 * per-channel vector to the full activation shape):
 *
 *   x̂ = (x − μ) / σ,  dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/(N·σ) · (N·dy − dβ − x̂·dγ)
 *
 * In inference mode it is the per-channel affine map it amounts to, so gradients
 * taken through a model in inference mode (gradient diagnostics) are cheap too.
 *
 * It keeps the class name 'BatchNormalization', its weights and its config, so
 * saved models stay ordinary tfjs/Keras layers models; registering it makes
 * deserialized models use it too.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { BATCH_NORM_TRAIN, CHANNEL_AFFINE } from '../../backends/kernels/batch-norm';
import { registerLayer, stockLayerClass } from './stock-layer';

export interface BatchNormInternals {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tfl.LayerVariable;
  beta: tfl.LayerVariable;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
}

type LayerArgs = Parameters<typeof tfl.layers.batchNormalization>[0];
type Kwargs = Record<string, unknown>;

const StockBatchNormalization = stockLayerClass<LayerArgs>(tfl.layers.batchNormalization, { name: 'mtl_probe_bn' });

/** y = γ·(x − μ)/√(σ² + ε) + β over all axes but the last, with the fused gradient above. */
function fusedBatchNormTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const axes = x.shape.map((_, i) => i).slice(0, -1);
  const { mean, variance } = tf.moments(x, axes);
  const invStd = tf.rsqrt(tf.add(variance, epsilon));
  const count = x.size / (x.shape[x.shape.length - 1] as number);
  const op = tf.customGrad(((input: tf.Tensor, g: tf.Tensor, b: tf.Tensor, mu: tf.Tensor, inv: tf.Tensor, save: tf.GradSaveFunc) => {
    const xhat = tf.mul(tf.sub(input, mu), inv);
    save([xhat, g, inv]);
    return {
      value: tf.add(tf.mul(xhat, g), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, gam, iv] = saved;
        const dBeta = tf.sum(dy, axes);
        const dGamma = tf.sum(tf.mul(dy, xh), axes);
        const scale = tf.div(tf.mul(gam, iv), count);
        const dx = tf.mul(tf.sub(tf.sub(tf.mul(dy, count), dBeta), tf.mul(xh, dGamma)), scale);
        // μ and 1/σ are inputs only to share their values; their effect is in dx already.
        return [dx, dGamma, dBeta, tf.zerosLike(mu), tf.zerosLike(inv)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return { y: op(x, gamma, beta, mean, invStd), mean, variance };
}

/** The same computation as one kernel pair, on backends that register it (wasm, cpu); with `relu`, the relu after it too. */
function batchNormTrainKernel(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, relu: boolean): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, scale: gamma, offset: beta }, { epsilon, relu }) as tf.Tensor[];
  return { y, mean, variance };
}

/** A batch norm over the last axis, with γ and β: the case the fused kernels (and `batchNormTraining`) take. */
export function normalizesLastAxis(layer: BatchNormInternals, rank: number): boolean {
  return (layer.axis === -1 || layer.axis === rank - 1) && layer.center && layer.scale;
}

/**
 * The training-mode call of such a batch norm (then a relu, with `relu`): x normalized
 * with its batch's statistics, and the moving averages moved.
 */
export function batchNormTraining(layer: BatchNormInternals, x: tf.Tensor, relu = false): tf.Tensor {
  return tf.tidy(() => {
    const gamma = layer.gamma.read();
    const beta = layer.beta.read();
    const kernel = tf.getKernel(BATCH_NORM_TRAIN, tf.getBackend()) !== undefined && x.dtype === 'float32';
    const { y, mean, variance } = kernel ? batchNormTrainKernel(x, gamma, beta, layer.epsilon, relu) : fusedBatchNormTraining(x, gamma, beta, layer.epsilon);
    for (const [variable, value] of [
      [layer.movingMean, mean],
      [layer.movingVariance, variance],
    ] as const) {
      const old = variable.read();
      variable.write(tf.sub(old, tf.mul(tf.sub(old, value), 1 - layer.momentum)));
    }
    return relu && !kernel ? tf.relu(y) : y;
  });
}

/** a and c of the per-channel map y = x·a + c a batch norm over the last axis, with γ and β, is in inference mode. */
export function inferenceAffine(layer: BatchNormInternals): { scale: tf.Tensor1D; offset: tf.Tensor1D } {
  const scale = tf.mul(layer.gamma.read(), tf.rsqrt(tf.add(layer.movingVariance.read(), layer.epsilon))) as tf.Tensor1D;
  return { scale, offset: tf.sub(layer.beta.read(), tf.mul(layer.movingMean.read(), scale)) };
}

export class FusedBatchNormalization extends StockBatchNormalization {
  static className = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const self = this as unknown as BatchNormInternals;
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!normalizesLastAxis(self, x.rank)) return super.call(inputs, kwargs);
    if (!kwargs.training) {
      // y = x·a + b per channel; broadcasting keeps its gradient free of tiles too.
      return tf.tidy(() => {
        const { scale: a, offset: b } = inferenceAffine(self);
        return tf.getKernel(CHANNEL_AFFINE, tf.getBackend()) && x.dtype === 'float32' ? (tf.engine().runKernel(CHANNEL_AFFINE, { x, scale: a, offset: b }) as tf.Tensor) : tf.add(tf.mul(x, a), b);
      });
    }
    return batchNormTraining(self, x);
  }
}

registerLayer(FusedBatchNormalization);

export function batchNormalization(args: LayerArgs): tfl.layers.Layer {
  return new FusedBatchNormalization(args);
}
