/**
 * A 1-D convolution layer's training pass as the FusedConv2D kernel over a [N, 1, W, C]
 * view (bias and relu inside mtl's convolution kernel, where tfjs-layers' Conv1D runs
 * Conv2D, then Add, then Relu) with its gradient written out: MtlReluGrad (one pass,
 * bit for bit the stock dy · step(y)), the bias's sum and the two convolution
 * gradients; the stock fused op's gradient would run Step and Multiply.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backendHas } from './gradients';
import { RELU_GRAD } from './relu-grad';

export type Conv1dActivation = 'linear' | 'relu';

/** Whether conv1dLayerOp computes this layer: channels-last, no dilation, a bias, a linear or relu activation. */
export function conv1dKernelApplies(x: tf.Tensor, activation: string, hasBias: boolean, dilation: number, dataFormat: string): activation is Conv1dActivation {
  return x.rank === 3 && x.dtype === 'float32' && hasBias && dilation === 1 && dataFormat === 'channelsLast' && (activation === 'linear' || activation === 'relu');
}

export function conv1dLayerOp(x: tf.Tensor3D, kernel: tf.Tensor3D, bias: tf.Tensor1D, stride: number, padding: 'same' | 'valid', activation: Conv1dActivation): tf.Tensor3D {
  const strides: [number, number] = [1, stride];
  const op = tf.customGrad(((xs: tf.Tensor, ks: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const x4 = tf.reshape(xs, [xs.shape[0], 1, xs.shape[1]!, xs.shape[2]!]) as tf.Tensor4D;
    const k4 = tf.reshape(ks, [1, ks.shape[0], ks.shape[1]!, ks.shape[2]!]) as tf.Tensor4D;
    // The kernel itself: tf.fused.conv2d runs unfused (Conv2D, Add, Relu) while gradients are recorded.
    const y = tf.engine().runKernel('FusedConv2D', { x: x4, filter: k4, bias: b }, { strides, pad: padding, dataFormat: 'NHWC', dilations: [1, 1], activation }) as tf.Tensor4D;
    save([x4, k4, y]);
    return {
      value: tf.reshape(y, [xs.shape[0], y.shape[2], y.shape[3]]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sk, sy] = saved as tf.Tensor4D[];
        const dy4 = tf.reshape(dy, sy.shape);
        const dz = activation === 'linear' ? dy4 : backendHas(RELU_GRAD) ? (tf.engine().runKernel(RELU_GRAD, { dy: dy4, x: sy }) as tf.Tensor4D) : tf.mul(dy4, tf.step(sy));
        const attrs = { strides, pad: padding, dataFormat: 'NHWC' };
        const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy: dz, filter: sk }, { ...attrs, inputShape: sx.shape }) as tf.Tensor;
        const dk = tf.engine().runKernel('Conv2DBackpropFilter', { x: sx, dy: dz }, { ...attrs, filterShape: sk.shape }) as tf.Tensor;
        return [tf.reshape(dx, xs.shape), tf.reshape(dk, ks.shape), tf.sum(dz, [0, 1, 2])];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, kernel, bias) as tf.Tensor3D;
}
