/**
 * Questions about a layers model's graph that the folds and fusions ask
 * (inference-fold.ts, training-fusion.ts): who reads a layer's output, and what kind of
 * layer it is. They look at tfjs-layers' own classes (mtl's layers extend them), so a
 * model built here and one loaded from any checkpoint answer alike.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BatchNormInternals } from './layers/batch-norm';
import type { ConvLayerInternals } from './layers/stock-layer';

type Layer = tfl.layers.Layer;
export type Conv = Layer & ConvLayerInternals;
export type BatchNorm = Layer & BatchNormInternals;

/** The layers whose outputs are the model's. */
export function outputLayers(model: tfl.LayersModel): Set<Layer> {
  return new Set(model.outputs.map((o) => o.sourceLayer));
}

/** The one layer that reads `layer`'s output, where `layer` is called once, read by one call (of the reader's, called once), and no output of the model. */
export function soleReader(layer: Layer, outputs: Set<Layer>): Layer | undefined {
  if (layer.inboundNodes.length !== 1 || layer.outboundNodes.length !== 1 || outputs.has(layer)) return undefined;
  const next = layer.outboundNodes[0].outboundLayer;
  return next.inboundNodes.length === 1 ? next : undefined;
}

/** `soleReader`, where that reader has no other input. */
export function onlyConsumer(layer: Layer, outputs: Set<Layer>): Layer | undefined {
  const next = soleReader(layer, outputs);
  return next?.inboundNodes[0].inboundLayers.length === 1 ? next : undefined;
}

/** The relu that alone reads `layer`'s output, which is no output of the model. */
export function reluAfter(layer: Layer, outputs: Set<Layer>): Layer | undefined {
  const next = onlyConsumer(layer, outputs);
  return next !== undefined && isRelu(next) ? next : undefined;
}

export function isFoldableConv(layer: Layer): layer is Conv {
  if (layer.getClassName() !== 'Conv2D') return false;
  const conv = layer as Conv;
  return conv.activation.getClassName() === 'linear' && conv.dataFormat === 'channelsLast' && conv.dilationRate.every((d) => d === 1) && (conv.padding === 'same' || conv.padding === 'valid');
}

export function isFoldableBatchNorm(layer: Layer, channels: number): layer is BatchNorm {
  if (layer.getClassName() !== 'BatchNormalization') return false;
  const bn = layer as BatchNorm;
  return (bn.axis === -1 || bn.axis === 3) && bn.center && bn.scale && bn.gamma.shape[0] === channels;
}

export function isRelu(layer: Layer): boolean {
  const activation = (layer as unknown as { activation?: { getClassName(): string } }).activation;
  return layer.getClassName() === 'Activation' && activation?.getClassName() === 'relu';
}

/** An Add of two inputs of one shape (MtlAddRelu does not broadcast). */
export function isAdd(layer: Layer): boolean {
  if (layer.getClassName() !== 'Add' || layer.inboundNodes.length !== 1 || layer.inboundNodes[0].inboundLayers.length !== 2) return false;
  const [a, b] = layer.inboundNodes[0].inputShapes as number[][];
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The call of a layer whose work was fused into the layer before it: a new handle on the same data (the executor disposes the input once its last reader has run). */
export const passOn = (inputs: tf.Tensor[]): tf.Tensor => tf.clone(inputs[0]);
