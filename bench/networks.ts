/**
 * The reference networks of ../shared/bench/README.md, built with mtl's own model
 * code and trained with its own training step:
 * - cnn: ResNet-14 (stem 3x3x16; stages of two basic blocks with 16, 32, 64 filters;
 *   stride-2 first blocks with 1x1 projections; global average pooling), input
 *   32x32x3, batch 64, heads dense 10 (softmax cross-entropy) + dense 1 (MSE), Adam 1e-3.
 * - mlp: 8 -> 64 ReLU -> 64 ReLU, heads 3 (cross-entropy) + 1 (MSE), batch 256, Adam 1e-3.
 */
import * as tf from '@tensorflow/tfjs-core';
import { configSchema, type Config } from '../src/config/schema';
import type { Preprocessing } from '../src/data/types';
import { buildModel } from '../src/models/build';
import { asNetwork } from '../src/models/network';
import { Rng } from '../src/data/rng';
import { TrainStep } from '../src/training/step';
import { createWeighting } from '../src/weighting';
import { createOptimizer } from '../src/training/optimizers';
import { activeBackend } from '../src/backends';

export type BenchModel = 'cnn' | 'mlp';

export interface Reference {
  batch: number;
  inputShape: number[];
  config: Config;
  preprocessing: Preprocessing;
}

const tasks = { cls: { type: 'classification', target: 'c' }, reg: { type: 'regression', target: 'r' } };

export function reference(model: BenchModel): Reference {
  const cnn = model === 'cnn';
  const classes = cnn ? 10 : 3;
  const config = configSchema.parse({
    name: `bench-${model}`,
    data: cnn ? { format: 'idx', images: 'x', targets: { c: 'c', r: 'r' } } : { format: 'csv', path: 'x' },
    model: {
      backbone: cnn
        ? { type: 'resnet', filters: [16, 32, 64], blocks: [2, 2, 2], stem: { filters: 16, kernel_size: 3, strides: 1 } }
        : { type: 'mlp', units: [64, 64], activation: 'relu' },
    },
    tasks,
    training: { batch_size: cnn ? 64 : 256, optimizer: { type: 'adam', learning_rate: 0.001 }, diagnostics: { enabled: false } },
  });
  const inputShape = cnn ? [32, 32, 3] : [8];
  const preprocessing: Preprocessing = {
    kind: cnn ? 'image' : 'table',
    featureShape: inputShape,
    targets: {
      cls: { kind: 'classification', column: 'c', classes: Array.from({ length: classes }, (_, i) => String(i)) },
      reg: { kind: 'regression', columns: ['r'], mean: [0], std: [1] },
    },
  };
  return { batch: cnn ? 64 : 256, inputShape, config, preprocessing };
}

/** A ready-to-run training step on one fixed random batch, as the PyTorch peer does. */
export function benchStep(model: BenchModel): { step: () => void; dispose: () => void; batch: number; parameters: number } {
  const ref = reference(model);
  const net = buildModel(ref.config, ref.preprocessing);
  const network = asNetwork(net, ['cls', 'reg']);
  const rng = new Rng(1);
  const n = ref.batch;
  const size = ref.inputShape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(Float32Array.from({ length: n * size }, () => rng.normal()), [n, ...ref.inputShape]);
  const classes = (ref.preprocessing.targets.cls as { classes: string[] }).classes.length;
  const targets = [tf.tensor1d(Int32Array.from({ length: n }, () => rng.int(classes)), 'int32'), tf.tensor2d(Float32Array.from({ length: n }, () => rng.normal()), [n, 1])];
  const optimizer = createOptimizer(ref.config.training.optimizer, !activeBackend()?.gpu);
  const weighting = createWeighting({ type: 'fixed' }, ref.config.tasks);
  const trainStep = new TrainStep({ network, tasks: [ref.config.tasks.cls, ref.config.tasks.reg], optimizer, weighting });
  return {
    step: () => void trainStep.run(x, targets),
    dispose: () => {
      tf.dispose([x, ...targets]);
      optimizer.dispose();
      net.dispose();
    },
    batch: n,
    parameters: net.countParams(),
  };
}
