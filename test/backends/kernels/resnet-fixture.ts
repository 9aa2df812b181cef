/**
 * A small tfjs-layers ResNet exercising the layers a training step needs: a
 * keras-ResNet50-style stem (zeroPadding2d, 7x7/2 conv with bias, batch norm,
 * relu, 3x3/2 max pooling), a basic block, a stride-2 block with a 1x1
 * projection, a bottleneck block, global average pooling and two dense heads.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type S = tfl.SymbolicTensor;

const bn = (x: S): S => tfl.layers.batchNormalization({ epsilon: 1e-3 }).apply(x) as S;
const relu = (x: S): S => tfl.layers.activation({ activation: 'relu' }).apply(x) as S;
const conv = (x: S, filters: number, kernelSize: number, strides = 1, useBias = false): S =>
  tfl.layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias, kernelInitializer: 'glorotUniform' }).apply(x) as S;

function basic(x: S, filters: number, strides: number): S {
  const y = bn(conv(relu(bn(conv(x, filters, 3, strides))), filters, 3));
  const shortcut = strides === 1 && x.shape[3] === filters ? x : bn(conv(x, filters, 1, strides));
  return relu(tfl.layers.add().apply([y, shortcut]) as S);
}

function bottleneck(x: S, filters: number, strides: number): S {
  const y1 = relu(bn(conv(x, filters, 1)));
  const y2 = relu(bn(conv(y1, filters, 3, strides)));
  const y3 = bn(conv(y2, 4 * filters, 1));
  const shortcut = bn(conv(x, 4 * filters, 1, strides));
  return relu(tfl.layers.add().apply([y3, shortcut]) as S);
}

export function buildSmallResnet(inputShape: [number, number, number]): tfl.LayersModel {
  const input = tfl.input({ shape: inputShape });
  let h = tfl.layers.zeroPadding2d({ padding: 3 }).apply(input) as S;
  h = tfl.layers.conv2d({ filters: 8, kernelSize: 7, strides: 2, padding: 'valid', useBias: true }).apply(h) as S;
  h = relu(bn(h));
  h = tfl.layers.zeroPadding2d({ padding: 1 }).apply(h) as S;
  h = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2 }).apply(h) as S;
  h = basic(h, 8, 1);
  h = basic(h, 10, 2);
  h = bottleneck(h, 3, 1);
  const features = tfl.layers.globalAveragePooling2d({}).apply(h) as S;
  const logits = tfl.layers.dense({ units: 5 }).apply(features) as S;
  const value = tfl.layers.dense({ units: 1 }).apply(features) as S;
  return tfl.model({ inputs: input, outputs: [logits, value] });
}

/** Cross-entropy + MSE of the two heads, in training mode. */
export function resnetLoss(model: tfl.LayersModel, x: tf.Tensor, labels: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  const [logits, value] = model.apply(x, { training: true }) as tf.Tensor[];
  return tf.add(tf.losses.softmaxCrossEntropy(labels, logits), tf.losses.meanSquaredError(targets, value)) as tf.Scalar;
}
