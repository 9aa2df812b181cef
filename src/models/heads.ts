import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { TaskConfig } from '../config/schema';
import type { Rng } from '../data/rng';

/**
 * One dense layer per task on the shared features. Classification heads output
 * logits: softmax is applied inside the loss (numerically stable) and in predictions.
 * Multilabel heads output one logit per label, each through its own sigmoid in the
 * loss and in predictions. Regression heads are linear with one output per target column.
 */
export type HeadBuilder = (features: SymbolicTensor, task: string, outputs: number, rng: Rng) => SymbolicTensor;

const denseHead: HeadBuilder = (features, task, outputs, rng) =>
  tfl.layers
    .dense({
      units: outputs,
      activation: 'linear',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: rng.seed() }),
      name: `head_${task}`,
    })
    .apply(features) as SymbolicTensor;

/** Heads by task type. */
export const headRegistry: Record<TaskConfig['type'], HeadBuilder> = {
  classification: denseHead,
  regression: denseHead,
  multilabel: denseHead,
};
