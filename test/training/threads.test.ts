import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { configSchema } from '../../src/config/schema';
import { configuredThreads, dataReplicas, inferenceKernelThreads, inferenceThreads, kernelThreads, parallelism } from '../../src/training/threads';
import type { Preprocessing } from '../../src/data/types';

const withText = (encoder: string, threads?: number) =>
  configSchema.parse({
    ...(threads !== undefined ? { threads } : {}),
    data: { format: 'jsonl', path: 'x.jsonl', inputs: [{ name: 'text', type: 'text', encoder }] },
    model: { backbone: { type: 'mlp' } },
    tasks: { t: { type: 'regression', target: 'y' } },
  });

test('--threads auto: one per core (up to 4) for resnets and text read by a cnn or transformer; one for MLPs and bags', () => {
  const perCore = Math.min(availableParallelism(), 4);
  const resnet = (preset?: string) => configSchema.parse({ data: { format: 'csv', path: 'x' }, model: { backbone: { type: 'resnet', ...(preset ? { preset } : {}) } }, tasks: { t: { type: 'regression', target: 'y' } } });
  const mlp = configSchema.parse({ data: { format: 'csv', path: 'x' }, model: { backbone: { type: 'mlp' } }, tasks: { t: { type: 'regression', target: 'y' } } });
  assert.equal(configuredThreads(resnet()), perCore);
  assert.equal(configuredThreads(resnet('resnet50')), perCore);
  assert.equal(configuredThreads(mlp), 1);
  assert.equal(configuredThreads(withText('bag')), 1);
  assert.equal(configuredThreads(withText('cnn')), perCore);
  assert.equal(configuredThreads(withText('transformer')), perCore);
  assert.equal(configuredThreads(withText('cnn', 1)), 1, 'a number in the config decides');
  const table: Preprocessing = { kind: 'table', inputs: [], targets: {} };
  assert.equal(inferenceThreads(withText('transformer'), table, 'wasm', 100000), perCore);
  assert.equal(inferenceThreads(withText('bag'), table, 'wasm', 100000), 1);
});

test('parallelism auto: kernel threads for the keras-sized presets on wasm, data-parallel replicas otherwise', () => {
  const perCore = Math.min(availableParallelism(), 4);
  const resnet = (extra: Record<string, unknown>, preset?: string) => configSchema.parse({
    ...extra, data: { format: 'csv', path: 'x' }, model: { backbone: { type: 'resnet', ...(preset ? { preset } : {}) } }, tasks: { t: { type: 'regression', target: 'y' } },
  });
  const keras = resnet({ threads: 2 }, 'resnet50');
  assert.equal(parallelism(keras), 'kernels');
  assert.equal(kernelThreads(keras), 2);
  assert.equal(dataReplicas(keras, 'wasm'), 1, 'one model: no replicas');
  assert.equal(dataReplicas(keras, 'cpu'), 1);
  const small = resnet({ threads: 2 });
  assert.equal(parallelism(small), 'data');
  assert.equal(kernelThreads(small), 1);
  assert.equal(dataReplicas(small, 'wasm'), 2);
  assert.equal(dataReplicas(small, 'tensorflow'), 1, 'native engines thread themselves');
  assert.equal(parallelism(resnet({ parallelism: 'data' }, 'resnet50')), 'data', 'the config decides');
  assert.equal(dataReplicas(resnet({ parallelism: 'data' }, 'resnet50'), 'wasm'), perCore);
  assert.equal(kernelThreads(resnet({ parallelism: 'kernels', threads: 3 })), 3);
  // text: a cnn encoder's convolutions split well, a transformer's steps split better as replicas
  assert.equal(parallelism(withText('cnn')), 'kernels');
  assert.equal(kernelThreads(withText('cnn')), perCore);
  assert.equal(dataReplicas(withText('cnn'), 'wasm'), 1);
  assert.equal(parallelism(withText('transformer')), 'data');
  assert.equal(parallelism(withText('bag')), 'data');
  // eval and predict: one model on kernel threads where training uses them, no scoring pool then
  assert.equal(inferenceKernelThreads(keras), 1, 'auto scores on a model per thread (faster)');
  const asked = resnet({ parallelism: 'kernels' }, 'resnet50');
  assert.equal(inferenceKernelThreads(asked), perCore);
  assert.equal(inferenceKernelThreads(asked, 1), 1, '--threads decides');
  assert.equal(inferenceKernelThreads(small), 1);
  const images: Preprocessing = { kind: 'table', inputs: [], targets: {} };
  assert.equal(inferenceThreads(keras, images, 'wasm', 100000, undefined, 2), 1);
  assert.equal(inferenceThreads(keras, images, 'wasm', 100000, undefined, 1), perCore);
});
