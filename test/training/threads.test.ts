import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { configSchema } from '../../src/config/schema';
import { configuredThreads, inferenceThreads } from '../../src/training/threads';
import type { Preprocessing } from '../../src/data/types';

const withText = (encoder: string, threads?: number) =>
  configSchema.parse({
    ...(threads !== undefined ? { threads } : {}),
    data: { format: 'jsonl', path: 'x.jsonl', inputs: [{ name: 'text', type: 'text', encoder }] },
    model: { backbone: { type: 'mlp' } },
    tasks: { t: { type: 'regression', target: 'y' } },
  });

test('--threads auto: one per core (up to 4) for small resnets and text read by a cnn or transformer; one for MLPs, bags and keras presets', () => {
  const perCore = Math.min(availableParallelism(), 4);
  const resnet = (preset?: string) => configSchema.parse({ data: { format: 'csv', path: 'x' }, model: { backbone: { type: 'resnet', ...(preset ? { preset } : {}) } }, tasks: { t: { type: 'regression', target: 'y' } } });
  const mlp = configSchema.parse({ data: { format: 'csv', path: 'x' }, model: { backbone: { type: 'mlp' } }, tasks: { t: { type: 'regression', target: 'y' } } });
  assert.equal(configuredThreads(resnet()), perCore);
  assert.equal(configuredThreads(resnet('resnet50')), 1);
  assert.equal(configuredThreads(mlp), 1);
  assert.equal(configuredThreads(withText('bag')), 1);
  assert.equal(configuredThreads(withText('cnn')), perCore);
  assert.equal(configuredThreads(withText('transformer')), perCore);
  assert.equal(configuredThreads(withText('cnn', 1)), 1, 'a number in the config decides');
  const table: Preprocessing = { kind: 'table', inputs: [], targets: {} };
  assert.equal(inferenceThreads(withText('transformer'), table, 'wasm', 100000), perCore);
  assert.equal(inferenceThreads(withText('bag'), table, 'wasm', 100000), 1);
});
