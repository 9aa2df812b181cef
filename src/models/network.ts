/**
 * A multi-task model seen in parts: the feature extractor(s) up to each task's head,
 * the heads, and which trainable weights are shared between tasks. Derived from
 * the layer graph alone, so it works the same for a freshly built model and for
 * one loaded from a checkpoint.
 */
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { TASK_COPY_SEPARATOR } from './pretrained';

export interface MultiTaskNetwork {
  model: tfl.LayersModel;
  tasks: string[];
  /** Input -> the distinct feature tensors the heads see (one for hard sharing, one per task otherwise). */
  features: tfl.LayersModel;
  /** For each task, the index of its features among `features`' outputs. */
  featureIndex: number[];
  heads: tfl.layers.Layer[];
  /** Trainable variables that more than one task's loss depends on. */
  shared: tf.Variable[];
  /** Soft sharing: corresponding variables of the task copies, one group per weight (each in task order). */
  copies: { name: string; variables: tf.Variable[] }[];
}

export function headName(task: string): string {
  return `head_${task}`;
}

export function asNetwork(model: tfl.LayersModel, tasks: string[]): MultiTaskNetwork {
  const heads = tasks.map((t) => model.getLayer(headName(t)));
  const featureTensors: tfl.SymbolicTensor[] = [];
  const featureIndex = heads.map((head) => {
    const input = head.input as tfl.SymbolicTensor;
    let i = featureTensors.indexOf(input);
    if (i < 0) i = featureTensors.push(input) - 1;
    return i;
  });
  const features = tfl.model({ inputs: model.inputs, outputs: featureTensors });

  const upstream = heads.map((head) => upstreamLayers(head));
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
