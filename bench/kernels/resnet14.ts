/**
 * The reference "cnn" of /work/shared/bench/README.md in tfjs-layers: ResNet-14
 * with two heads (about 176k parameters), NHWC input 32x32x3.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

function convBn(x: tfl.SymbolicTensor, filters: number, kernel: number, stride: number): tfl.SymbolicTensor {
  const c = tfl.layers.conv2d({ filters, kernelSize: kernel, strides: stride, padding: 'same', useBias: false }).apply(x);
  return tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(c) as tfl.SymbolicTensor;
}

function relu(x: tfl.SymbolicTensor): tfl.SymbolicTensor {
  return tfl.layers.activation({ activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
}

function basicBlock(x: tfl.SymbolicTensor, filters: number, stride: number): tfl.SymbolicTensor {
  const cin = x.shape[x.shape.length - 1];
  const y = convBn(relu(convBn(x, filters, 3, stride)), filters, 3, 1);
  const shortcut = stride !== 1 || cin !== filters ? convBn(x, filters, 1, stride) : x;
  return relu(tfl.layers.add().apply([y, shortcut]) as tfl.SymbolicTensor);
}

/** Outputs: [logits (10), value (1)]. */
export function buildResnet14(): tfl.LayersModel {
  const input = tfl.input({ shape: [32, 32, 3] });
  let h = relu(convBn(input, 16, 3, 1));
  [16, 32, 64].forEach((filters, stage) => {
    for (let block = 0; block < 2; block++) h = basicBlock(h, filters, stage > 0 && block === 0 ? 2 : 1);
  });
  const features = tfl.layers.globalAveragePooling2d({}).apply(h) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ units: 10 }).apply(features) as tfl.SymbolicTensor;
  const value = tfl.layers.dense({ units: 1 }).apply(features) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: [logits, value] });
}

/** One Adam step on CE(logits, labels) + MSE(value, targets); returns the loss. */
export function trainStep(
  model: tfl.LayersModel, optimizer: tf.Optimizer, x: tf.Tensor, labels: tf.Tensor, targets: tf.Tensor,
): number {
  const { value, grads } = tf.variableGrads(() => {
    const [logits, pred] = model.apply(x, { training: true }) as tf.Tensor[];
    const ce = tf.losses.softmaxCrossEntropy(labels, logits);
    const mse = tf.losses.meanSquaredError(targets, pred);
    return tf.add(ce, mse) as tf.Scalar;
  });
  optimizer.applyGradients(grads);
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  return loss;
}
