/**
 * Initializing a backbone from weights on disk (`model.backbone.weights`): any tfjs
 * layers model.json (one written by mtl, or a Keras model converted with
 * tensorflowjs_converter). Weights are matched by layer and weight name; nothing is
 * downloaded.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { UserError } from '../errors';
import { readWeightMap } from '../outputs/checkpoint';
import { isSharingLayer } from './sharing/types';

/** Prefix that soft sharing gives each task's copy of the backbone. */
export const TASK_COPY_SEPARATOR = '__';

function isBackboneLayer(layer: tfl.layers.Layer): boolean {
  return !layer.name.startsWith('head_') && layer.getClassName() !== 'InputLayer' && !isSharingLayer(layer.name);
}

/** Copies matching weights into every backbone layer; returns a line saying what was loaded. */
export function loadBackboneWeights(model: tfl.LayersModel, file: string): string {
  const saved = readWeightMap(file);
  try {
    const missing: string[] = [];
    const wrongShape: string[] = [];
    const assignments: [tfl.LayerVariable, tf.Tensor][] = [];
    for (const layer of model.layers.filter(isBackboneLayer)) {
      for (const weight of layer.weights) {
        const name = weight.originalName;
        const plain = name.includes(TASK_COPY_SEPARATOR) ? name.slice(name.indexOf(TASK_COPY_SEPARATOR) + TASK_COPY_SEPARATOR.length) : name;
        const value = saved[name] ?? saved[plain];
        if (!value) missing.push(plain);
        else if (!tf.util.arraysEqual(value.shape, weight.shape as number[])) {
          wrongShape.push(`${plain} [${value.shape.join(', ')}] vs [${weight.shape.join(', ')}]`);
        } else assignments.push([weight, value]);
      }
    }
    if (missing.length || wrongShape.length) {
      const parts = [];
      if (missing.length) parts.push(`${missing.length} backbone weights not in the file (e.g. ${missing.slice(0, 3).join(', ')})`);
      if (wrongShape.length) parts.push(`${wrongShape.length} with another shape (e.g. ${wrongShape.slice(0, 3).join('; ')})`);
      throw new UserError(`model.backbone.weights ${file}: ${parts.join('; ')}`, {
        exitCode: 2,
        hint: 'the saved model must have a backbone of the same type and sizes, with the same layer names',
      });
    }
    for (const [weight, value] of assignments) weight.write(value);
    return `backbone initialized from ${file} (${assignments.length} weights)`;
  } finally {
    tf.dispose(Object.values(saved));
  }
}
