/**
 * Batch norms folded into the convolutions before them, for inference (eval, predict,
 * serve): in inference mode a batch norm is the per-channel map x·a + c, so
 * conv → batch norm (→ relu) is one convolution with the filter W·a and the bias b·a + c,
 * relu inside the convolution's kernel. The activation is then written once instead of
 * three times (convolution, batch norm, relu): ResNet-50 inference spent 5% of its time
 * in the batch norms and 4% in those relus.
 *
 * A chain folds only where nothing else reads what it skips: the convolution's output
 * goes to the batch norm alone and is no output of the model; a relu folds too where the
 * batch norm's output goes to it alone and is no output either; each layer is called once.
 * Folding is active only inside `withFoldedBatchNorms`, for the model it was given; other
 * calls in inference mode (gradient diagnostics, which differentiate the weights) see the
 * layers as they are. It works on tfjs-layers' own classes (mtl's layers extend them), so
 * models built here and models loaded from any checkpoint fold alike. The folded weights are computed again whenever a weight they come
 * from was assigned (training, loading), so a fold never serves stale weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { inferenceAffine, type BatchNormInternals } from './layers/batch-norm';
import type { ConvLayerInternals } from './layers/stock-layer';

type Layer = tfl.layers.Layer;
type Conv = Layer & ConvLayerInternals;
type BatchNorm = Layer & BatchNormInternals;

class ConvFold {
  private weights: { sources: unknown[]; filter: tf.Tensor4D; bias: tf.Tensor1D } | undefined;

  constructor(
    private readonly conv: Conv,
    private readonly batchNorm: BatchNorm,
    private readonly relu: boolean,
  ) {}

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const { filter, bias } = this.refresh();
    return tf.fused.conv2d({
      x,
      filter,
      bias,
      strides: [this.conv.strides[0], this.conv.strides[1]],
      pad: this.conv.padding as 'same' | 'valid',
      dataFormat: 'NHWC',
      activation: this.relu ? 'relu' : 'linear',
    });
  }

  /** The folded weights, computed again if a weight they come from was assigned since. */
  refresh(): { filter: tf.Tensor4D; bias: tf.Tensor1D } {
    const { conv, batchNorm } = this;
    const variables = [conv.kernel, conv.bias, batchNorm.gamma, batchNorm.beta, batchNorm.movingMean, batchNorm.movingVariance];
    // An assigned variable holds a new dataId: that is how a changed weight is noticed.
    const sources = variables.map((v) => v?.read().dataId);
    if (this.weights && this.weights.sources.every((s, i) => s === sources[i])) return this.weights;
    this.dispose();
    const [filter, bias] = tf.tidy(() => {
      const { scale, offset } = inferenceAffine(batchNorm);
      const f = tf.mul(conv.kernel.read(), scale) as tf.Tensor4D;
      const b = conv.bias ? (tf.add(tf.mul(conv.bias.read(), scale), offset) as tf.Tensor1D) : offset;
      return [tf.keep(f), tf.keep(b)];
    });
    this.weights = { sources, filter, bias };
    return this.weights;
  }

  dispose(): void {
    if (this.weights) tf.dispose([this.weights.filter, this.weights.bias]);
    this.weights = undefined;
  }
}

interface Plan {
  folds: Map<Layer, ConvFold>;
  /** Batch norms and relus whose work a fold does: in inference mode they pass their input on. */
  skipped: Set<Layer>;
}

const plans = new WeakMap<tfl.LayersModel, Plan>();
let active: Plan | undefined;

/** Runs `run` with the batch norms of `model` folded into their convolutions (see above). */
export function withFoldedBatchNorms<T>(model: tfl.LayersModel, run: () => T): T {
  const outer = active;
  active = planFor(model);
  // All at once, before any activation: the folded weights then lie together on the heap.
  active.folds.forEach((fold) => fold.refresh());
  try {
    return run();
  } finally {
    active = outer;
  }
}

/** Frees the folded weights of `model` (folded again on next use): for a model still training, whose weights change next step. */
export function releaseFolds(model: tfl.LayersModel): void {
  plans.get(model)?.folds.forEach((f) => f.dispose());
}

/** Disposes `model` with the folded weights its inference made. */
export function disposeModel(model: tfl.LayersModel): void {
  releaseFolds(model);
  plans.delete(model);
  model.dispose();
}

/** How many convolutions of `model` fold a batch norm, and how many of those a relu too. */
export function foldCounts(model: tfl.LayersModel): { batchNorms: number; relus: number } {
  const plan = planFor(model);
  return { batchNorms: plan.folds.size, relus: plan.skipped.size - plan.folds.size };
}

function planFor(model: tfl.LayersModel): Plan {
  let plan = plans.get(model);
  if (!plan) {
    plan = makePlan(model);
    plans.set(model, plan);
  }
  return plan;
}

/** The one layer that reads `layer`'s output, where `layer` is called once, read by one call, and no output of the model. */
function onlyConsumer(layer: Layer, outputs: Set<Layer>): Layer | undefined {
  if (layer.inboundNodes.length !== 1 || layer.outboundNodes.length !== 1 || outputs.has(layer)) return undefined;
  const next = layer.outboundNodes[0].outboundLayer;
  return next.inboundNodes.length === 1 && next.inboundNodes[0].inboundLayers.length === 1 ? next : undefined;
}

function isFoldableConv(layer: Layer): layer is Conv {
  if (layer.getClassName() !== 'Conv2D') return false;
  const conv = layer as Conv;
  return conv.activation.getClassName() === 'linear' && conv.dataFormat === 'channelsLast' && conv.dilationRate.every((d) => d === 1) && (conv.padding === 'same' || conv.padding === 'valid');
}

function isFoldableBatchNorm(layer: Layer, channels: number): layer is BatchNorm {
  if (layer.getClassName() !== 'BatchNormalization') return false;
  const bn = layer as BatchNorm;
  return (bn.axis === -1 || bn.axis === 3) && bn.center && bn.scale && bn.gamma.shape[0] === channels;
}

function isRelu(layer: Layer): boolean {
  const activation = (layer as unknown as { activation?: { getClassName(): string } }).activation;
  return layer.getClassName() === 'Activation' && activation?.getClassName() === 'relu';
}

function makePlan(model: tfl.LayersModel): Plan {
  const plan: Plan = { folds: new Map(), skipped: new Set() };
  const outputs = new Set(model.outputs.map((o) => o.sourceLayer));
  for (const conv of model.layers) {
    if (!isFoldableConv(conv)) continue;
    const batchNorm = onlyConsumer(conv, outputs);
    if (!batchNorm || !isFoldableBatchNorm(batchNorm, conv.kernel.shape[3] as number)) continue;
    const next = onlyConsumer(batchNorm, outputs);
    const relu = next !== undefined && isRelu(next) ? next : undefined;
    const fold = new ConvFold(conv, batchNorm, relu !== undefined);
    plan.folds.set(conv, fold);
    wrapCall(conv, (x) => fold.apply(x as tf.Tensor4D));
    for (const skipped of relu ? [batchNorm, relu] : [batchNorm]) {
      plan.skipped.add(skipped);
      wrapCall(skipped, (x) => x);
    }
  }
  return plan;
}

const wrapped = new WeakSet<Layer>();

/**
 * The layer's call, on this instance, runs `folded` in inference mode while a plan that
 * folds this layer is active, and its own call otherwise (training, other models).
 */
function wrapCall(layer: Layer, folded: (x: tf.Tensor) => tf.Tensor): void {
  if (wrapped.has(layer)) return;
  wrapped.add(layer);
  const call = layer.call.bind(layer);
  layer.call = (inputs, kwargs) => {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return !kwargs.training && (active?.folds.has(layer) || active?.skipped.has(layer)) ? folded(x) : call(inputs, kwargs);
  };
}
