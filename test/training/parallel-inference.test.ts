/**
 * Inference threads (eval, predict): each thread scores whole batches of 256 rows, the
 * batches one thread would score, so the outputs, losses and metrics of two threads are
 * exactly those of one; the main thread's tensor count stays flat.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backends';
import { configSchema, defaultImageEncoder } from '../../src/config/schema';
import type { Preprocessing, Split } from '../../src/data/types';
import { evalCommand } from '../../src/api/eval';
import { predictCommand } from '../../src/api/predict';
import { trainCommand } from '../../src/api/train';
import { buildModel } from '../../src/models/build';
import { Rng } from '../../src/data/rng';
import { runSplit } from '../../src/training/evaluate';
import { InferencePool } from '../../src/training/parallel/inference-pool';
import { inferenceThreads } from '../../src/training/threads';
import { silentProgress } from '../../src/training/progress';
import { UserError } from '../../src/errors';
import { captureOutput } from '../helpers/output';
import { tempDir, writeFile } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

const dir = tempDir();

/** 700 rows (three batches, the last partial); every fifth row lacks its regression label. */
function table(): string {
  const rng = new Rng(3);
  const lines = ['a,b,c,kind,cls,reg'];
  for (let i = 0; i < 700; i++) {
    const [a, b, c] = [rng.normal(), rng.normal(), rng.normal()];
    lines.push(`${a},${b},${c},${['x', 'y', 'z'][i % 3]},${a + b > 0 ? 'up' : 'down'},${i % 5 === 0 ? '' : 2 * c + a}`);
  }
  return writeFile(dir, 'rows.csv', lines.join('\n') + '\n');
}

test('eval and predict on two threads give exactly one thread\'s metrics, losses and predictions', async () => {
  const csv = table();
  const config = writeFile(
    dir,
    'mlp.yaml',
    `data: {format: csv, path: ${csv}, features: [a, b, c, kind]}
model: {backbone: {type: mlp, units: [16], batch_norm: true}}
tasks:
  cls: {type: classification, target: cls}
  reg: {type: regression, target: reg}
training: {epochs: 1, batch_size: 64}
`,
  );
  const run = path.join(dir, 'run');
  await trainCommand({ config, out: run, threads: 1 }, captureOutput(), silentProgress);
  const [one, two] = [await evalCommand({ location: run, data: csv, threads: 1, json: true }, captureOutput()), await evalCommand({ location: run, data: csv, threads: 2, json: true }, captureOutput())];
  assert.equal(one.samples, 700);
  assert.ok(Number.isFinite(one.tasks.reg.loss) && one.tasks.reg.n === 560);
  assert.deepEqual(two.tasks, one.tasks);
  assert.equal(two.loss, one.loss);

  const outs = [1, 2].map((threads) => path.join(dir, `preds-${threads}.jsonl`));
  const [p1, p2] = [await predictCommand({ location: run, data: csv, out: outs[0], threads: 1 }, captureOutput(), captureOutput()), await predictCommand({ location: run, data: csv, out: outs[1], threads: 2 }, captureOutput(), captureOutput())];
  assert.equal(p1.rows.length, 700);
  assert.deepEqual(p2.rows, p1.rows);
});

test('a conv net with batch norm: raw outputs and losses of two and three threads equal one thread\'s bit for bit, tensors flat', async () => {
  const config = configSchema.parse({
    data: { format: 'idx', images: 'x', targets: { c: 'c', r: 'r' } },
    model: { backbone: { type: 'resnet', filters: [4, 8], blocks: [1, 1], stem: { filters: 4, kernel_size: 3, strides: 1 } } },
    tasks: { cls: { type: 'classification', target: 'c' }, reg: { type: 'regression', target: 'r' } },
  });
  const shape = [8, 8, 3];
  const preprocessing: Preprocessing = {
    kind: 'image',
    inputs: [{ name: 'image', type: 'image', shape, state: { height: 8, width: 8, channels: 3, resize: false, encoder: defaultImageEncoder() } }],
    targets: { cls: { kind: 'classification', column: 'c', classes: ['0', '1', '2'] }, reg: { kind: 'regression', columns: ['r'], mean: [0], std: [1] } },
  };
  const model = buildModel(config, preprocessing);
  const n = 600;
  const split = (): Split => ({
    size: n,
    inputs: [{ name: 'image', shape, packed: false, values: Float32Array.from({ length: n * 192 }, (_, i) => Math.sin(i * 0.37)) }],
    targets: { cls: Int32Array.from({ length: n }, (_, i) => i % 3), reg: Float32Array.from({ length: n }, (_, i) => Math.cos(i)) },
    rows: Int32Array.from({ length: n }, (_, i) => i),
  });
  const single = runSplit(model, split(), config.tasks);
  const tensors = tf.memory().numTensors;
  for (const threads of [2, 3]) {
    const pool = await InferencePool.start(threads, 'wasm', model);
    try {
      const shared = split();
      for (let repeat = 0; repeat < 2; repeat++) {
        const threaded = runSplit(model, shared, config.tasks, pool);
        for (const task of ['cls', 'reg']) assert.deepEqual(Array.from(threaded.outputs[task]), Array.from(single.outputs[task]), `${threads} threads, ${task}`);
        assert.deepEqual(threaded.losses, single.losses);
      }
    } finally {
      await pool!.close();
    }
  }
  assert.equal(tf.memory().numTensors, tensors);
  model.dispose();
});

test('inferenceThreads: --threads decides (no more than the batches); auto threads conv nets with rows enough, not MLPs or native engines', () => {
  const conv = configSchema.parse({ data: { format: 'csv', path: 'x' }, model: { backbone: { type: 'resnet' } }, tasks: { t: { type: 'regression', target: 'y' } } });
  const mlp = configSchema.parse({ data: { format: 'csv', path: 'x' }, model: { backbone: { type: 'mlp' } }, tasks: { t: { type: 'regression', target: 'y' } } });
  const table: Preprocessing = { kind: 'table', inputs: [], targets: {} };
  assert.equal(inferenceThreads(mlp, table, 'wasm', 100000, 3), 3);
  assert.equal(inferenceThreads(mlp, table, 'wasm', 300, 3), 2);
  assert.equal(inferenceThreads(mlp, table, 'wasm', 100000), 1);
  assert.equal(inferenceThreads(conv, table, 'wasm', 200), 1);
  assert.equal(inferenceThreads(conv, table, 'wasm', 2000), 1);
  const preset = configSchema.parse({ data: { format: 'csv', path: 'x' }, model: { backbone: { type: 'resnet', preset: 'resnet50' } }, tasks: { t: { type: 'regression', target: 'y' } } });
  assert.equal(inferenceThreads(preset, table, 'wasm', 600), Math.min(availableParallelism(), 2));
  assert.equal(inferenceThreads(conv, table, 'cpu', 100000), Math.min(availableParallelism(), 4));
  assert.equal(inferenceThreads(conv, table, 'tensorflow', 100000, 4), 1);
  assert.throws(() => inferenceThreads(conv, table, 'wasm', 100, 0), UserError);
});
