import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { Config, HeadConfig, TaskConfig } from '../config/schema';
import type { Rng } from '../data/rng';
import { dense } from './layers/dense';

/**
 * Each task's head on the shared features: the hidden dense layers of its `head` config
 * (each -> activation -> dropout), then the output layer `head_<task>`. Hidden layers are
 * named `head_<task>.dense_<n>` (`.dropout_<n>`): a task name cannot hold a dot, so no
 * task's layer names clash with another's. Classification heads output logits: softmax
 * is applied inside the loss (numerically stable) and in predictions. Multilabel heads
 * output one logit per label, each through its own sigmoid in the loss and in
 * predictions. Regression heads end linear with one output per target column.
 */
export type HeadBuilder = (features: SymbolicTensor, task: string, outputs: number, head: HeadConfig, rng: Rng) => SymbolicTensor;

/** The name of a task's output layer (checkpoints and predictions know the head by it). */
export function headName(task: string): string {
  return `head_${task}`;
}

/** The prefix of a task's hidden head layers. */
export function hiddenHeadPrefix(task: string): string {
  return `${headName(task)}.`;
}

/** A task's head config: its own `head`, else `model.head`. */
export function taskHeadConfig(config: Config, task: string): HeadConfig {
  return config.tasks[task].head ?? config.model.head;
}

const denseHead: HeadBuilder = (features, task, outputs, head, rng) => {
  let h = features;
  head.units.forEach((units, i) => {
    const n = i + 1;
    h = dense({
      units,
      activation: head.activation,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: rng.seed() }),
      name: `${hiddenHeadPrefix(task)}dense_${n}`,
    }).apply(h) as SymbolicTensor;
    if (head.dropout > 0) h = tfl.layers.dropout({ rate: head.dropout, name: `${hiddenHeadPrefix(task)}dropout_${n}` }).apply(h) as SymbolicTensor;
  });
  return dense({
    units: outputs,
    activation: 'linear',
    kernelInitializer: tfl.initializers.glorotUniform({ seed: rng.seed() }),
    name: headName(task),
  }).apply(h) as SymbolicTensor;
};

/** Heads by task type. */
export const headRegistry: Record<TaskConfig['type'], HeadBuilder> = {
  classification: denseHead,
  regression: denseHead,
  multilabel: denseHead,
};
