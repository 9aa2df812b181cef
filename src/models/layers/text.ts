/**
 * Layers for text encoders that tfjs-layers 4.22 lacks: pooling that skips padding,
 * learned position embeddings, and multi-head self-attention with a padding mask. Each
 * takes the token ids (0 = padding) as its last input, so a mask needs no side channel
 * through the functional API. Registered for serialization beside each class.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { maskedPoolKernel } from '../../backends/kernels/masked-pool';
import { registerLayer } from './stock-layer';

type Kwargs = Record<string, unknown>;
type Inputs = tf.Tensor | tf.Tensor[];

/** 1 for real tokens, 0 for padding: [batch, time]. */
export function tokenMask(ids: tf.Tensor): tf.Tensor2D {
  return tf.cast(tf.greater(ids, 0), 'float32') as tf.Tensor2D;
}

export interface MaskedPoolingArgs {
  /** `mean` over the real tokens, or `max` over them (a text without tokens gives zeros). */
  mode: 'mean' | 'max';
  name?: string;
}

/** [x: batch x time x dim, ids: batch x time] -> batch x dim, padding left out. */
export class MaskedPooling extends tfl.layers.Layer {
  static className = 'MtlMaskedPooling';
  private readonly mode: 'mean' | 'max';

  constructor(args: MaskedPoolingArgs) {
    super({ name: args.name });
    this.mode = args.mode;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const x = (inputShape as tfl.Shape[])[0];
    return [x[0], x[2]];
  }

  override call(inputs: Inputs, _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [x, ids] = inputs as tf.Tensor[];
      const pooled = maskedPoolKernel(x, ids, this.mode);
      if (pooled) return pooled;
      const mask = tf.expandDims(tokenMask(ids), -1);
      if (this.mode === 'mean') return tf.div(tf.sum(tf.mul(x, mask), 1), tf.maximum(tf.sum(mask, 1), 1));
      const any = tf.cast(tf.greater(tf.sum(mask, 1), 0), 'float32');
      // Padding positions drop far below any real activation before the max.
      return tf.mul(tf.max(tf.add(x, tf.mul(tf.sub(mask, 1), 1e9)), 1), any);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode };
  }
}
registerLayer(MaskedPooling);

export interface PositionEmbeddingArgs {
  maxLength: number;
  dim: number;
  seed?: number | null;
  name?: string;
}

/** Adds a learned vector per position to a batch x time x dim input. */
export class PositionEmbedding extends tfl.layers.Layer {
  static className = 'MtlPositionEmbedding';
  private readonly maxLength: number;
  private readonly dim: number;
  private readonly seed?: number;
  private positions?: tfl.LayerVariable;

  constructor(args: PositionEmbeddingArgs) {
    super({ name: args.name });
    this.maxLength = args.maxLength;
    this.dim = args.dim;
    this.seed = args.seed ?? undefined;
  }

  override build(): void {
    this.positions = this.addWeight('positions', [this.maxLength, this.dim], 'float32', tfl.initializers.randomNormal({ stddev: 0.02, seed: this.seed }));
    this.built = true;
  }

  override call(inputs: Inputs, _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const time = x.shape[1] as number;
      return tf.add(x, tf.slice(this.positions!.read(), [0, 0], [time, this.dim]));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), maxLength: this.maxLength, dim: this.dim, seed: this.seed ?? null };
  }
}
registerLayer(PositionEmbedding);

export interface SelfAttentionArgs {
  dim: number;
  heads: number;
  seed?: number | null;
  name?: string;
}

/**
 * Multi-head self-attention (Vaswani et al. 2017): [x: batch x time x dim, ids] ->
 * batch x time x dim, each position attending to the real tokens only.
 */
export class MultiHeadSelfAttention extends tfl.layers.Layer {
  static className = 'MtlMultiHeadSelfAttention';
  private readonly dim: number;
  private readonly heads: number;
  private readonly seed?: number;
  private weightsQkv?: tfl.LayerVariable;
  private biasQkv?: tfl.LayerVariable;
  private weightsOut?: tfl.LayerVariable;
  private biasOut?: tfl.LayerVariable;

  constructor(args: SelfAttentionArgs) {
    super({ name: args.name });
    if (args.dim % args.heads !== 0) throw new Error(`attention: embedding_dim ${args.dim} is not a multiple of heads ${args.heads}`);
    this.dim = args.dim;
    this.heads = args.heads;
    this.seed = args.seed ?? undefined;
  }

  override build(): void {
    const init = (k: number) => tfl.initializers.glorotUniform({ seed: this.seed === undefined ? undefined : this.seed + k });
    this.weightsQkv = this.addWeight('qkv_kernel', [this.dim, 3 * this.dim], 'float32', init(0));
    this.biasQkv = this.addWeight('qkv_bias', [3 * this.dim], 'float32', tfl.initializers.zeros());
    this.weightsOut = this.addWeight('out_kernel', [this.dim, this.dim], 'float32', init(1));
    this.biasOut = this.addWeight('out_bias', [this.dim], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (inputShape as tfl.Shape[])[0];
  }

  override call(inputs: Inputs, _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [x, ids] = inputs as tf.Tensor[];
      const [batch, time] = x.shape as number[];
      const h = this.heads;
      const d = this.dim / h;
      const qkv = tf.add(tf.matMul(tf.reshape(x, [batch * time, this.dim]), this.weightsQkv!.read()), this.biasQkv!.read());
      // [batch*time, 3*dim] -> three [batch*heads, time, d]
      const part = (i: number) => tf.reshape(tf.transpose(tf.reshape(tf.slice(qkv, [0, i * this.dim], [batch * time, this.dim]), [batch, time, h, d]), [0, 2, 1, 3]), [batch * h, time, d]);
      const [q, k, v] = [part(0), part(1), part(2)];
      const keyBias = tf.mul(tf.sub(tokenMask(ids), 1), 1e9); // [batch, time]: 0 for tokens, -1e9 for padding
      const bias = tf.reshape(tf.tile(tf.expandDims(keyBias, 1), [1, h, 1]), [batch * h, 1, time]);
      const scores = tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(d)), bias);
      const context = tf.matMul(tf.softmax(scores), v); // [batch*heads, time, d]
      const merged = tf.reshape(tf.transpose(tf.reshape(context, [batch, h, time, d]), [0, 2, 1, 3]), [batch * time, this.dim]);
      return tf.reshape(tf.add(tf.matMul(merged, this.weightsOut!.read()), this.biasOut!.read()), [batch, time, this.dim]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dim: this.dim, heads: this.heads, seed: this.seed ?? null };
  }
}
registerLayer(MultiHeadSelfAttention);

export interface LayerNormArgs {
  epsilon?: number;
  name?: string;
}

/**
 * Layer normalization over the last axis with a learned scale and offset, in plain
 * ops: tfjs-layers' own goes through FusedBatchNorm with per-position statistics, whose
 * stock gradient slices the batch row by row (thousands of kernels a step on wasm).
 */
export class LayerNorm extends tfl.layers.Layer {
  static className = 'MtlLayerNorm';
  private readonly epsilon: number;
  private gamma?: tfl.LayerVariable;
  private beta?: tfl.LayerVariable;

  constructor(args: LayerNormArgs = {}) {
    super({ name: args.name });
    this.epsilon = args.epsilon ?? 1e-3;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const dim = shape[shape.length - 1] as number;
    this.gamma = this.addWeight('gamma', [dim], 'float32', tfl.initializers.ones());
    this.beta = this.addWeight('beta', [dim], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override call(inputs: Inputs, _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const mean = tf.mean(x, -1, true);
      const centered = tf.sub(x, mean);
      const variance = tf.mean(tf.square(centered), -1, true);
      return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, this.epsilon))), this.gamma!.read()), this.beta!.read());
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}
registerLayer(LayerNorm);
