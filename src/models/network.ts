/**
 * A multi-task model seen in parts: the feature extractor(s) up to each task's head,
 * the heads, and which trainable weights are shared between tasks. Derived from
 * the layer graph alone, so it works the same for a freshly built model and for
 * one loaded from a checkpoint.
 */
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { headName, hiddenHeadPrefix } from './heads';
import { TASK_COPY_SEPARATOR } from './pretrained';

export interface MultiTaskNetwork {
  model: tfl.LayersModel;
  tasks: string[];
  /** Input -> the distinct feature tensors the heads see (one for hard sharing, one per task otherwise). */
  features: tfl.LayersModel;
  /** For each task, the index of its features among `features`' outputs. */
  featureIndex: number[];
  heads: TaskHead[];
  /** Trainable variables that more than one task's loss depends on. */
  shared: tf.Variable[];
  /** Soft sharing: corresponding variables of the task copies, one group per weight (each in task order). */
  copies: { name: string; variables: tf.Variable[] }[];
}

/** A task's head: its layers from the features it sees to its output, applied in order. */
export class TaskHead {
  constructor(readonly layers: tfl.layers.Layer[]) {}

  /** The features the head sees (the input of its first layer). */
  get input(): tfl.SymbolicTensor {
    return this.layers[0].input as tfl.SymbolicTensor;
  }

  get trainableWeights(): tfl.LayerVariable[] {
    return this.layers.flatMap((l) => l.trainableWeights);
  }

  /** The head's output on concrete features; `training` turns its dropout on. */
  apply(features: tf.Tensor, kwargs: { training?: boolean } = {}): tf.Tensor {
    return this.layers.reduce((h, layer) => layer.apply(h, kwargs) as tf.Tensor, features);
  }
}

/** A task's head layers: back from its output layer through the layers named as its hidden ones. */
function headOf(model: tfl.LayersModel, task: string): TaskHead {
  const layers = [model.getLayer(headName(task))];
  for (;;) {
    const inbound = layers[0].inboundNodes[0]?.inboundLayers ?? [];
    if (inbound.length !== 1 || !inbound[0].name.startsWith(hiddenHeadPrefix(task))) break;
    layers.unshift(inbound[0]);
  }
  return new TaskHead(layers);
}

export function asNetwork(model: tfl.LayersModel, tasks: string[]): MultiTaskNetwork {
  const heads = tasks.map((t) => headOf(model, t));
  const featureTensors: tfl.SymbolicTensor[] = [];
  const featureIndex = heads.map((head) => {
    const input = head.input;
    let i = featureTensors.indexOf(input);
    if (i < 0) i = featureTensors.push(input) - 1;
    return i;
  });
  const features = tfl.model({ inputs: model.inputs, outputs: featureTensors });

  const upstream = heads.map((head) => upstreamLayers(head.layers[head.layers.length - 1]));
  const sharedLayers = model.layers.filter((l) => upstream.filter((set) => set.has(l)).length > 1);
  const shared = sharedLayers.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));

  const groups = new Map<string, tf.Variable[]>();
  for (const [t, task] of tasks.entries()) {
    const prefix = `${task}${TASK_COPY_SEPARATOR}`;
    for (const layer of model.layers.filter((l) => l.name.startsWith(prefix))) {
      for (const w of layer.trainableWeights) {
        const key = w.originalName.slice(prefix.length);
        if (!groups.has(key)) groups.set(key, new Array(tasks.length));
        groups.get(key)![t] = w.read() as tf.Variable;
      }
    }
  }
  const copies = [...groups.entries()]
    .filter(([, vars]) => vars.filter(Boolean).length === tasks.length)
    .map(([name, variables]) => ({ name, variables }));
  return { model, tasks, features, featureIndex, heads, shared, copies };
}

/** Every layer whose output reaches `layer`, itself included. */
function upstreamLayers(layer: tfl.layers.Layer): Set<tfl.layers.Layer> {
  const seen = new Set<tfl.layers.Layer>();
  const stack = [layer];
  while (stack.length) {
    const l = stack.pop()!;
    if (seen.has(l)) continue;
    seen.add(l);
    for (const node of l.inboundNodes) for (const inbound of node.inboundLayers) stack.push(inbound);
  }
  return seen;
}
