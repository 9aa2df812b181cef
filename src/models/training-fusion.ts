/**
 * Relus fused into the layer before them, in training: a batch norm followed by a relu is
 * one MtlBatchNormTrain kernel with `relu` (its gradient masks dy itself), and a residual
 * Add followed by a relu is one MtlAddRelu (its gradient one MtlReluGrad pass); the relu
 * layers then pass their input on. Each relu's pass over the activation, forward and back,
 * is gone, and the pre-relu activation is never kept for the backward pass. The values are
 * the unfused layers' (the same float32 operations, Relu's gradient dy · step(y) included).
 * On backends without the kernels the same layers compose the relu from tfjs ops.
 *
 * A relu fuses only where the layer before it is read by it alone and is no output of the
 * model (layer-graph.ts), so nothing sees the skipped activation. Inference-mode calls are
 * untouched (inference-fold.ts folds those).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { addRelu } from '../backends/kernels/add-relu';
import { batchNormTraining, FusedBatchNormalization, normalizesLastAxis, type BatchNormInternals } from './layers/batch-norm';
import { isAdd, outputLayers, passOn, reluAfter } from './layer-graph';

type Layer = tfl.layers.Layer;
type TrainingCall = (inputs: tf.Tensor[]) => tf.Tensor;

const trainingCalls = new WeakMap<Layer, TrainingCall>();
const fusions = new WeakMap<tfl.LayersModel, FusionCounts>();

/** How many relus of a model fused, into batch norms and into Adds. */
export interface FusionCounts {
  batchNorms: number;
  adds: number;
}

/** A batch norm of mtl's class over the last axis (`reluAfter` found it called once, so it has one input). */
function fusesIntoBatchNorm(layer: Layer): boolean {
  const rank = (layer.input as tfl.SymbolicTensor).shape.length;
  return layer instanceof FusedBatchNormalization && normalizesLastAxis(layer as unknown as BatchNormInternals, rank);
}

/**
 * Fuses the relus of `model` into the layers before them, for its training-mode calls (once
 * per model; the counts are what that call fused). `views`: models over the same layers
 * whose outputs must stay as they are too (a multi-task network's features).
 */
export function fuseReluForTraining(model: tfl.LayersModel, views: tfl.LayersModel[] = []): FusionCounts {
  const known = fusions.get(model);
  if (known) return known;
  const counts: FusionCounts = { batchNorms: 0, adds: 0 };
  fusions.set(model, counts);
  const outputs = new Set([model, ...views].flatMap((m) => [...outputLayers(m)]));
  for (const layer of model.layers) {
    const relu = trainingCalls.has(layer) ? undefined : reluAfter(layer, outputs);
    if (!relu) continue;
    if (isAdd(layer)) {
      setTrainingCall(layer, ([a, b]) => addRelu(a, b));
      counts.adds++;
    } else if (fusesIntoBatchNorm(layer)) {
      const batchNorm = layer as unknown as BatchNormInternals;
      setTrainingCall(layer, ([x]) => batchNormTraining(batchNorm, x, true));
      counts.batchNorms++;
    } else {
      continue;
    }
    setTrainingCall(relu, passOn);
  }
  return counts;
}

/** On this instance, a training-mode call runs `training`; any other call the layer's own (or another wrapper's) call. */
function setTrainingCall(layer: Layer, training: TrainingCall): void {
  trainingCalls.set(layer, training);
  const call = layer.call.bind(layer);
  layer.call = (inputs, kwargs) => (kwargs.training ? training(Array.isArray(inputs) ? inputs : [inputs]) : call(inputs, kwargs));
}
