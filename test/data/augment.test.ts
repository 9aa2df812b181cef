import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { trainCommand } from '../../src/api/train';
import { augmentImage } from '../../src/data/augment';
import { gatherBatch } from '../../src/data/batches';
import { loadData } from '../../src/data/load';
import { silentProgress } from '../../src/training/progress';
import { configFrom } from '../helpers/config';
import { writeMixedTable } from '../helpers/mixed-table';
import { captureOutput } from '../helpers/output';
import { checkpointWeights, maxAbsDiff } from '../helpers/run';
import { tempDir, writeFile } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

const dir = tempDir();

test('augmentation: flips mirror rows, shifts fill with zeros, the same seed and row give the same image', () => {
  const image = Float32Array.from({ length: 3 * 4 }, (_, i) => i + 1); // 3 x 4, one channel
  const flipped = image.slice();
  let seed = 0;
  // Find a seed whose draw is a pure flip (no shift allowed here).
  for (; seed < 50; seed++) {
    const copy = image.slice();
    augmentImage(copy, [3, 4, 1], { flip: true, crop_padding: 0, translate: 0 }, seed, 0);
    if (copy[0] !== image[0]) {
      flipped.set(copy);
      break;
    }
  }
  assert.deepEqual(Array.from(flipped.subarray(0, 4)), [4, 3, 2, 1]);
  const shifted = image.slice();
  augmentImage(shifted, [3, 4, 1], { flip: false, crop_padding: 2, translate: 0 }, 5, 7);
  const again = image.slice();
  augmentImage(again, [3, 4, 1], { flip: false, crop_padding: 2, translate: 0 }, 5, 7);
  assert.deepEqual(Array.from(again), Array.from(shifted), 'seeded');
  const kept = Array.from(shifted).filter((v) => v !== 0);
  assert.ok(kept.every((v) => image.includes(v)), 'only original pixels or zeros');
});

test('augmentation applies to training batches only, and one thread and two agree (no batch norm here)', async () => {
  const csv = writeMixedTable(path.join(dir, 't'), 64);
  const yaml = `data: {format: csv, path: ${csv}, inputs: [{name: image, type: image, augment: {flip: true, crop_padding: 1}}]}
model: {backbone: {type: mlp, units: [8]}}
tasks:
  total: {type: classification, target: label}
training: {epochs: 2, batch_size: 16}
`;
  const data = await loadData(configFrom(yaml));
  assert.ok(data.train.inputs[0].augment && !data.val.inputs[0].augment && !data.test.inputs[0].augment);
  const order = Array.from({ length: data.train.size }, (_, i) => i);
  const plain = gatherBatch(data.train, order, 0, 8).inputs[0].values;
  const augmented = gatherBatch(data.train, order, 0, 8, 123).inputs[0].values;
  assert.notDeepEqual(Array.from(augmented), Array.from(plain));
  assert.deepEqual(Array.from(gatherBatch(data.train, order, 0, 8, 123).inputs[0].values), Array.from(augmented));
  const config = writeFile(dir, 'aug.yaml', yaml);
  await trainCommand({ config, out: path.join(dir, 'one'), threads: 1 }, captureOutput(), silentProgress);
  await trainCommand({ config, out: path.join(dir, 'two'), threads: 2 }, captureOutput(), silentProgress);
  const diff = maxAbsDiff(checkpointWeights(path.join(dir, 'two')), checkpointWeights(path.join(dir, 'one')));
  assert.ok(diff < 1e-4, `weights differ by ${diff}`);
});
