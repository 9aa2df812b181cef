/**
 * Batch norms folded into the convolutions before them, for inference (eval, predict,
 * serve): in inference mode a batch norm is the per-channel map x·a + c, so
 * conv → batch norm (→ relu) is one convolution with the filter W·a and the bias b·a + c,
 * relu inside the convolution's kernel. The activation is then written once instead of
 * three times (convolution, batch norm, relu): ResNet-50 inference spent 5% of its time
 * in the batch norms and 4% in those relus. A residual Add followed by a relu is likewise
 * one pass (MtlAddRelu) instead of two.
 *
 * A chain folds only where nothing else reads what it skips: the convolution's output
 * goes to the batch norm alone and is no output of the model; a relu folds too where the
 * batch norm's output goes to it alone and is no output either; an Add's relu folds on the
 * same terms; each layer is called once.
 *
 * Folding is active only inside `withFoldedBatchNorms`, for the model it was given, or
 * everywhere for a model frozen for inference (`freezeForInference`); other calls in
 * inference mode (gradient diagnostics, which differentiate the weights) see the layers as
 * they are. It works on tfjs-layers' own classes (mtl's layers extend them), so models
 * built here and models loaded from any checkpoint fold alike. The folded weights are
 * computed again whenever a weight they come from was assigned (training, loading), so a
 * fold never serves stale weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { inferenceAffine } from './layers/batch-norm';
import { isAdd, isFoldableBatchNorm, isFoldableConv, onlyConsumer, outputLayers, passOn, reluAfter, soleReader, type BatchNorm, type Conv } from './layer-graph';
import { addRelu } from '../backends/kernels/add-relu';
import { hostValues, writableHostValues } from '../backends';

type Layer = tfl.layers.Layer;

class ConvFold {
  private weights: { sources: unknown[]; filter: tf.Tensor4D; bias: tf.Tensor1D } | undefined;
  /** Set once the folded weights replaced the convolution's own (`freezeForInference`). */
  private frozen: { bias: tf.Tensor1D | undefined } | undefined;

  constructor(
    private readonly conv: Conv,
    private readonly batchNorm: BatchNorm,
    private readonly relu: boolean,
  ) {}

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const { filter, bias } = this.frozen ? { filter: this.conv.kernel.read() as tf.Tensor4D, bias: this.frozen.bias ?? (this.conv.bias!.read() as tf.Tensor1D) } : this.refresh();
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

  /** Writes the folded filter and bias over the convolution's own; a convolution without a bias keeps the folded one here. */
  freeze(): void {
    if (this.frozen) return;
    const { filter, bias } = this.refresh();
    overwrite(this.conv.kernel, filter);
    if (this.conv.bias) overwrite(this.conv.bias, bias);
    this.frozen = { bias: this.conv.bias ? undefined : bias };
    this.weights = undefined;
  }

  dispose(): void {
    if (this.weights) tf.dispose([this.weights.filter, this.weights.bias]);
    this.frozen?.bias?.dispose();
    this.weights = undefined;
    this.frozen = undefined;
  }
}

/**
 * Writes `value` over a weight's values and disposes it: in place where the backend keeps
 * them in host memory (wasm, cpu), so freezing leaves no freed holes among the weights
 * that the heap would grow past (ResNet-50 inference: 90 MB more heap with them), else by
 * assigning.
 */
function overwrite(weight: tfl.LayerVariable, value: tf.Tensor): void {
  const target = writableHostValues(weight.read());
  if (target) target.set(hostValues(value));
  else weight.write(value);
  value.dispose();
}

interface Plan {
  /** What each folded layer computes in inference mode instead of its own call. */
  calls: Map<Layer, (inputs: tf.Tensor[]) => tf.Tensor>;
  folds: ConvFold[];
  counts: { batchNorms: number; relus: number; adds: number };
  /** Folded into the weights themselves: the plan applies in every inference-mode call. */
  frozen?: boolean;
}

/** The plan of each layer whose model was frozen for inference. */
const frozenPlans = new WeakMap<Layer, Plan>();

const plans = new WeakMap<tfl.LayersModel, Plan>();
let active: Plan | undefined;

/** Runs `run` with the batch norms of `model` folded into their convolutions (see above). */
export function withFoldedBatchNorms<T>(model: tfl.LayersModel, run: () => T): T {
  const outer = active;
  active = planFor(model);
  // All at once, before any activation: the folded weights then lie together on the heap.
  if (!active.frozen) for (const fold of active.folds) fold.refresh();
  try {
    return run();
  } finally {
    active = outer;
  }
}

/**
 * Folds the batch norms of a model that will only infer from now on (eval, predict, serve,
 * an inference thread's copy) into its convolutions' own weights, so no second copy of
 * them is kept (ResNet-50: 94 MB per thread). Its inference then folds everywhere, in
 * `withFoldedBatchNorms` or not; a training-mode call through a folded layer throws, and
 * its weights are no longer the checkpoint's: do not save or train it.
 */
export function freezeForInference(model: tfl.LayersModel): void {
  const plan = planFor(model);
  if (plan.frozen) return;
  for (const fold of plan.folds) fold.freeze();
  plan.frozen = true;
  for (const layer of plan.calls.keys()) frozenPlans.set(layer, plan);
}

/** Frees the folded weights of `model` (folded again on next use): for a model still training, whose weights change next step. */
export function releaseFolds(model: tfl.LayersModel): void {
  const plan = plans.get(model);
  if (plan && !plan.frozen) for (const fold of plan.folds) fold.dispose();
}

/** Disposes `model` with the folded weights its inference made. */
export function disposeModel(model: tfl.LayersModel): void {
  for (const fold of plans.get(model)?.folds ?? []) fold.dispose();
  plans.delete(model);
  model.dispose();
}

/** What folds in `model`: batch norms into convolutions, relus into those or into Adds (`adds`). */
export function foldCounts(model: tfl.LayersModel): Plan['counts'] {
  return planFor(model).counts;
}

function planFor(model: tfl.LayersModel): Plan {
  let plan = plans.get(model);
  if (!plan) {
    plan = makePlan(model);
    plans.set(model, plan);
  }
  return plan;
}

function makePlan(model: tfl.LayersModel): Plan {
  const plan: Plan = { calls: new Map(), folds: [], counts: { batchNorms: 0, relus: 0, adds: 0 } };
  const outputs = outputLayers(model);
  for (const layer of model.layers) {
    if (isAdd(layer)) {
      const relu = reluAfter(layer, outputs);
      if (!relu) continue;
      // An input only this Add reads may take the sum (its memory is free after the Add); never the caller's.
      const reusable = layer.inboundNodes[0].inboundLayers.findIndex((input) => input.getClassName() !== 'InputLayer' && soleReader(input, outputs) === layer);
      plan.calls.set(layer, ([a, b]) => (reusable === 1 ? addRelu(b, a, true) : addRelu(a, b, reusable === 0)));
      plan.calls.set(relu, passOn);
      plan.counts.adds++;
      continue;
    }
    if (!isFoldableConv(layer)) continue;
    const batchNorm = onlyConsumer(layer, outputs);
    if (!batchNorm || !isFoldableBatchNorm(batchNorm, layer.kernel.shape[3] as number)) continue;
    const relu = reluAfter(batchNorm, outputs);
    const fold = new ConvFold(layer, batchNorm, relu !== undefined);
    plan.folds.push(fold);
    plan.calls.set(layer, ([x]) => fold.apply(x as tf.Tensor4D));
    plan.calls.set(batchNorm, passOn);
    plan.counts.batchNorms++;
    if (relu) {
      plan.calls.set(relu, passOn);
      plan.counts.relus++;
    }
  }
  for (const layer of plan.calls.keys()) wrapCall(layer);
  return plan;
}

const wrapped = new WeakSet<Layer>();

/**
 * The layer's call, on this instance, runs what the active plan (or its frozen model's)
 * gives it in inference mode, and its own call otherwise (training, no plan active, a
 * plan that does not fold it).
 */
function wrapCall(layer: Layer): void {
  if (wrapped.has(layer)) return;
  wrapped.add(layer);
  const call = layer.call.bind(layer);
  layer.call = (inputs, kwargs) => {
    const frozen = frozenPlans.get(layer);
    if (kwargs.training && frozen) throw new Error(`layer ${layer.name} was frozen for inference (its batch norm folded into its weights): it cannot train`);
    const folded = kwargs.training ? undefined : (frozen ?? active)?.calls.get(layer);
    return folded ? folded(Array.isArray(inputs) ? inputs : [inputs]) : call(inputs, kwargs);
  };
}
