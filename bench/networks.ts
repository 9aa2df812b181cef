/**
 * The reference networks of ../shared/bench/README.md, built with mtl's own model
 * code and trained with its own training step:
 * - cnn: ResNet-14 (stem 3x3x16; stages of two basic blocks with 16, 32, 64 filters;
 *   stride-2 first blocks with 1x1 projections; global average pooling), input
 *   32x32x3, batch 64, heads dense 10 (softmax cross-entropy) + dense 1 (MSE), Adam 1e-3.
 * - mlp: 8 -> 64 ReLU -> 64 ReLU, heads 3 (cross-entropy) + 1 (MSE), batch 256, Adam 1e-3.
 * - resnet50: mtl's `preset: resnet50` (keras.applications ResNet50 v1 without its top),
 *   input 64x64x3 (MTL_BENCH_RESNET50_SIZE for another), batch 16, the same two heads, Adam 1e-3.
 *
 * Inference (`benchInference`) runs the eval path (src/training/evaluate.ts runSplit:
 * model.apply in inference mode, batches of 256) over one batch of 256 rows.
 */
import { configSchema, defaultImageEncoder, type Config } from '../src/config/schema';
import type { InputSpec } from '../src/inputs';
import type { Preprocessing } from '../src/data/types';
import { buildModel } from '../src/models/build';
import { Rng } from '../src/data/rng';
import { epochOrder } from '../src/data/batches';
import type { Split } from '../src/data/types';
import { activeBackend } from '../src/backends';
import { createReplica, replicaStep } from '../src/training/replica';
import { ReplicaPool } from '../src/training/parallel/pool';
import { INFERENCE_BATCH, runSplit } from '../src/training/evaluate';
import { InferencePool } from '../src/training/parallel/inference-pool';
import { freezeForInference } from '../src/models/inference-fold';

export type BenchModel = 'cnn' | 'mlp' | 'resnet50' | TextBenchModel;

/** The text encoders against bench/peer_text.py: vocabulary 10,000, 128 tokens, embedding 64, batch 64, trunk 64. */
export const textBenchModels = ['text-bag', 'text-cnn', 'text-transformer'] as const;
export type TextBenchModel = (typeof textBenchModels)[number];
const TEXT = { vocab: 10000, length: 128, dim: 64, batch: 64 };

function isText(model: BenchModel): model is TextBenchModel {
  return (textBenchModels as readonly string[]).includes(model);
}

export interface Reference {
  batch: number;
  inputShape: number[];
  config: Config;
  preprocessing: Preprocessing;
}

const tasks = { cls: { type: 'classification', target: 'c' }, reg: { type: 'regression', target: 'r' } };

export function reference(model: BenchModel): Reference {
  if (isText(model)) return textReference(model);
  const image = model === 'cnn' || model === 'resnet50';
  const size = model === 'resnet50' ? Number(process.env.MTL_BENCH_RESNET50_SIZE ?? 64) : 32;
  const batch = model === 'cnn' ? 64 : model === 'resnet50' ? 16 : 256;
  const classes = image ? 10 : 3;
  const backbone =
    model === 'cnn'
      ? { type: 'resnet', filters: [16, 32, 64], blocks: [2, 2, 2], stem: { filters: 16, kernel_size: 3, strides: 1 } }
      : model === 'resnet50'
        ? { type: 'resnet', preset: 'resnet50' }
        : { type: 'mlp', units: [64, 64], activation: 'relu' };
  const config = configSchema.parse({
    name: `bench-${model}`,
    data: image ? { format: 'idx', images: 'x', targets: { c: 'c', r: 'r' } } : { format: 'csv', path: 'x' },
    model: { backbone },
    tasks,
    training: { batch_size: batch, optimizer: { type: 'adam', learning_rate: 0.001 }, diagnostics: { enabled: false } },
  });
  const inputShape = image ? [size, size, 3] : [8];
  // The MLP reads eight numeric columns, each an input of its own as in a real table.
  const inputs: InputSpec[] = image
    ? [{ name: 'image', type: 'image', shape: inputShape, state: { height: size, width: size, channels: 3, resize: false, encoder: defaultImageEncoder() } }]
    : Array.from({ length: 8 }, (_, i) => ({ name: `x${i}`, type: 'numeric', shape: [1], state: { mean: 0, std: 1 } }));
  const preprocessing: Preprocessing = {
    kind: image ? 'image' : 'table',
    inputs,
    targets: {
      cls: { kind: 'classification', column: 'c', classes: Array.from({ length: classes }, (_, i) => String(i)) },
      reg: { kind: 'regression', columns: ['r'], mean: [0], std: [1] },
    },
  };
  return { batch, inputShape, config, preprocessing };
}

function textReference(model: TextBenchModel): Reference {
  const encoder = model.slice('text-'.length);
  const config = configSchema.parse({
    data: { format: 'csv', path: 'x', inputs: [{ name: 'text', type: 'text', encoder, embedding_dim: TEXT.dim, max_length: TEXT.length, heads: 4 }] },
    model: { backbone: { type: 'mlp', units: [64], activation: 'relu' } },
    tasks,
    training: { batch_size: TEXT.batch, optimizer: { type: 'adam', learning_rate: 0.001 }, diagnostics: { enabled: false } },
  });
  const vocab = ['', '<unk>', ...Array.from({ length: TEXT.vocab - 2 }, (_, i) => `w${i}`)];
  const state = { tokenizer: 'words', ngram: 3, lowercase: true, maxLength: TEXT.length, vocab, encoder, embeddingDim: TEXT.dim, layers: 1, heads: 4, dropout: 0, kernelSize: 3 };
  const preprocessing: Preprocessing = {
    kind: 'table',
    inputs: [{ name: 'text', type: 'text', shape: [TEXT.length], state }],
    targets: {
      cls: { kind: 'classification', column: 'c', classes: ['0', '1'] },
      reg: { kind: 'regression', columns: ['r'], mean: [0], std: [1] },
    },
  };
  return { batch: TEXT.batch, inputShape: [TEXT.length], config, preprocessing };
}

/** Token ids with a random number of real tokens (20-128) per text, the rest padding. */
function randomTokens(n: number, rng: Rng): Float32Array {
  const ids = new Float32Array(n * TEXT.length);
  for (let r = 0; r < n; r++) {
    const length = 20 + rng.int(TEXT.length - 19);
    for (let t = 0; t < length; t++) ids[r * TEXT.length + t] = 1 + rng.int(TEXT.vocab - 1);
  }
  return ids;
}

/** Random samples (`batches` batches' worth) as a training split; the step shuffles them as training does. */
export function randomSplit(ref: Reference, batches: number): Split {
  const rng = new Rng(1);
  const n = ref.batch * batches;
  if (ref.preprocessing.inputs[0].type === 'text') {
    return {
      size: n,
      inputs: [{ name: 'text', shape: [TEXT.length], packed: false, values: randomTokens(n, rng) }],
      targets: { cls: Int32Array.from({ length: n }, () => rng.int(2)), reg: Float32Array.from({ length: n }, () => rng.normal()) },
      rows: Int32Array.from({ length: n }, (_, i) => i),
    };
  }
  const size = ref.inputShape.reduce((a, b) => a * b, 1);
  const classes = (ref.preprocessing.targets.cls as { classes: string[] }).classes.length;
  return {
    size: n,
    inputs: ref.preprocessing.inputs.map((input) => ({ name: input.name, shape: input.shape, packed: input.type !== 'image', values: Float32Array.from({ length: (n * size) / ref.preprocessing.inputs.length }, () => rng.normal()) })),
    targets: { cls: Int32Array.from({ length: n }, () => rng.int(classes)), reg: Float32Array.from({ length: n }, () => rng.normal()) },
    rows: Int32Array.from({ length: n }, (_, i) => i),
  };
}

/** A ready-to-run training step of mtl's own loop (replicas on `threads` threads) on that batch. */
export async function benchStep(model: BenchModel, threads = 1): Promise<{ step: () => void; close: () => Promise<void>; batch: number; parameters: number }> {
  const ref = reference(model);
  const net = buildModel(ref.config, ref.preprocessing);
  const backend = activeBackend()!;
  const replica = createReplica(ref.config, net, !backend.gpu);
  const split = randomSplit(ref, model === 'mlp' ? 200 : model === 'resnet50' ? 4 : 20);
  const pool = threads > 1 ? await ReplicaPool.start({ threads, backend: backend.name, config: ref.config, model: net, replica, train: split }) : undefined;
  const steps = split.size / ref.batch;
  let epoch = 0;
  let order: Uint32Array = new Uint32Array(0);
  let s = steps;
  let globalStep = 0;
  return {
    step: () => {
      if (s === steps) {
        epoch++;
        s = 0;
        order = epochOrder(split.size, ref.config.seed, epoch);
        pool?.startEpoch({ epoch, learningRate: 0.001, weighting: replica.weighting.getState(), fromStep: 0, globalStep, batchSize: ref.batch });
      }
      pool?.step();
      replicaStep(replica, { split, order, start: s * ref.batch, end: (s + 1) * ref.batch, globalStep: ++globalStep, seed: ref.config.seed, skipNonFinite: false, replicas: pool?.replicas, reducer: pool?.reducer });
      s++;
    },
    close: async () => {
      await pool?.close();
      replica.optimizer.dispose();
      net.dispose();
    },
    batch: ref.batch,
    parameters: net.countParams(),
  };
}

/**
 * A ready-to-run inference pass of the eval path (runSplit: model.apply with training
 * false, losses of both tasks) over one batch of INFERENCE_BATCH rows per thread, the
 * batches scored by `threads` threads together (InferencePool) as mtl eval/predict do.
 */
export async function benchInference(model: BenchModel, threads = 1): Promise<{ step: () => void; close: () => Promise<void>; batch: number; parameters: number }> {
  const ref = reference(model);
  const net = buildModel(ref.config, ref.preprocessing);
  const split = randomSplit({ ...ref, batch: INFERENCE_BATCH }, threads);
  const pool = await InferencePool.start(threads, activeBackend()!.name, net);
  // As eval and predict do: the batch norms folded into the convolutions' weights.
  freezeForInference(net);
  return {
    step: () => {
      runSplit(net, split, ref.config.tasks, pool);
    },
    close: async () => {
      await pool?.close();
      net.dispose();
    },
    batch: split.size,
    parameters: net.countParams(),
  };
}
