import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync, truncateSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backends';
import { loadCheckpoint, readCheckpointMeta, saveCheckpoint } from '../../src/outputs/checkpoint';
import { UserError } from '../../src/errors';
import { tempDir } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'cpu' });
});

function tinyModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [3] });
  const h = tfl.layers.dense({ units: 4, activation: 'relu', name: 'dense_1' }).apply(input) as tfl.SymbolicTensor;
  const a = tfl.layers.dense({ units: 2, name: 'head_a' }).apply(h) as tfl.SymbolicTensor;
  const b = tfl.layers.dense({ units: 1, name: 'head_b' }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: [a, b] });
}

test('a saved checkpoint loads back with identical outputs, metadata and extra tensors', async () => {
  const dir = path.join(tempDir(), 'last');
  const model = tinyModel();
  const moments = [{ name: 'iter', tensor: tf.scalar(7) }];
  await saveCheckpoint(dir, model, { epoch: 3, note: 'hi' }, { optimizer: moments });
  const loaded = await loadCheckpoint<{ epoch: number; note: string }>(dir);
  const x = tf.tensor2d([[1, 2, 3], [-1, 0, 0.5]]);
  const before = (model.predict(x) as tf.Tensor[]).map((t) => Array.from(t.dataSync()));
  const after = (loaded.model.predict(x) as tf.Tensor[]).map((t) => Array.from(t.dataSync()));
  assert.deepEqual(after, before);
  assert.deepEqual(loaded.meta, { epoch: 3, note: 'hi' });
  assert.equal(loaded.extras.optimizer[0].tensor.dataSync()[0], 7);
  assert.equal(readCheckpointMeta<{ epoch: number }>(dir).epoch, 3);
});

test('saving again replaces the weights file and leaves no stale files', async () => {
  const dir = path.join(tempDir(), 'best');
  const model = tinyModel();
  await saveCheckpoint(dir, model, { epoch: 1 });
  writeFileSync(path.join(dir, 'model.json.tmp-999-0'), 'half a file');
  await saveCheckpoint(dir, model, { epoch: 2 });
  const files = readdirSync(dir).sort();
  assert.equal(files.length, 2, files.join(', '));
  assert.ok(files.includes('model.json'));
  assert.equal(readCheckpointMeta<{ epoch: number }>(dir).epoch, 2);
});

async function damaged(edit: (dir: string) => void): Promise<string> {
  const dir = path.join(tempDir(), 'ckpt');
  await saveCheckpoint(dir, tinyModel(), {});
  edit(dir);
  try {
    await loadCheckpoint(dir);
  } catch (e) {
    assert.ok(e instanceof UserError, `not a UserError: ${String(e)}`);
    return e.message;
  }
  assert.fail('a damaged checkpoint loaded');
}

const weightsFile = (dir: string) => path.join(dir, readdirSync(dir).find((f) => f.startsWith('weights-'))!);

test('a truncated model.json, truncated or missing weights and a foreign file get errors naming the file', async () => {
  assert.match(await damaged((d) => truncateSync(path.join(d, 'model.json'), 50)), /model\.json: not valid JSON/);
  assert.match(await damaged((d) => truncateSync(weightsFile(d), 10)), /model\.json: weights file holds 10 bytes, the manifest needs \d+/);
  assert.match(await damaged((d) => rmSync(weightsFile(d))), /weights file weights-.*\.bin is missing/);
  assert.match(await damaged((d) => writeFileSync(path.join(d, 'model.json'), '{"hello": 1}')), /not a tfjs layers model/);
  assert.match(
    await damaged((d) => {
      const json = JSON.parse(readFileSync(path.join(d, 'model.json'), 'utf8'));
      json.weightsManifest[0].weights[0].shape = [2, 2];
      writeFileSync(path.join(d, 'model.json'), JSON.stringify(json));
    }),
    /model\.json: weights file holds \d+ bytes, the manifest needs \d+/,
  );
  await assert.rejects(loadCheckpoint(path.join(tempDir(), 'none')), /no checkpoint here/);
});
