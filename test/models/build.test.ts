import { singleInput } from '../helpers/features';
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backends';
import { buildModel } from '../../src/models/build';
import { resnetPresets, resolveResnet } from '../../src/models/backbones/resnet';
import { backboneRegistry } from '../../src/models/backbones';
import type { Preprocessing } from '../../src/data/types';
import { configFrom } from '../helpers/config';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'cpu' });
});

const tableData = `data: {format: csv, path: x.csv}`;
const imageData = `data: {format: idx, images: i.idx, targets: {label: l.idx, size: s.idx}}`;
const tasks = `tasks:
  kind: {type: classification, target: label}
  size: {type: regression, target: size}`;

function pre(featureShape: number[], classes = 5, outputs = 1): Preprocessing {
  return {
    kind: featureShape.length === 1 ? 'table' : 'image',
    inputs: singleInput(featureShape),
    targets: {
      kind: { kind: 'classification', column: 'label', classes: Array.from({ length: classes }, (_, i) => `c${i}`) },
      size: { kind: 'regression', columns: Array.from({ length: outputs }, (_, i) => `s${i}`), mean: Array(outputs).fill(0), std: Array(outputs).fill(1) },
    },
  };
}

test('every registered backbone yields one output per task with the right widths', () => {
  const backbones: Record<string, string> = {
    mlp: `{type: mlp, units: [16, 8], batch_norm: true, dropout: 0.2}`,
    resnet: `{type: resnet, filters: [4, 8], blocks: [1, 1]}`,
    cnn: `{type: cnn, filters: [4, 8], kernel_size: 3, units: [8]}`,
  };
  assert.deepEqual(Object.keys(backbones).sort(), Object.keys(backboneRegistry).sort(), 'a backbone without a shape test');
  for (const [type, backbone] of Object.entries(backbones)) {
    const shape = type === 'mlp' ? [6] : [12, 12, 1];
    const config = configFrom(`${type === 'mlp' ? tableData : imageData}\nmodel: {backbone: ${backbone}}\n${tasks}`);
    const model = buildModel(config, pre(shape, 5, 1));
    const x = tf.randomNormal([3, ...shape]);
    const [logits, size] = model.predict(x) as tf.Tensor[];
    assert.deepEqual(logits.shape, [3, 5], type);
    assert.deepEqual(size.shape, [3, 1], type);
    tf.dispose([x, logits, size]);
    model.dispose();
  }
});

test('a regression head with K target columns has K linear outputs', () => {
  const config = configFrom(`${tableData}\nmodel: {backbone: {type: mlp, units: [4]}}\n${tasks}`);
  const model = buildModel(config, pre([3], 2, 3));
  assert.deepEqual(model.outputs.map((o) => o.shape), [[null, 2], [null, 3]]);
  model.dispose();
});

test('an mlp on images flattens them first', () => {
  const config = configFrom(`${imageData}\nmodel: {backbone: {type: mlp, units: [4]}}\n${tasks}`);
  const model = buildModel(config, pre([5, 5, 1]));
  assert.ok(model.layers.some((l) => l.getClassName() === 'Flatten'));
  model.dispose();
});

test('resnet ends in global average pooling, so heads see a vector', () => {
  const config = configFrom(`${imageData}\nmodel: {backbone: {type: resnet, filters: [4, 8, 16], blocks: [1, 1, 1]}}\n${tasks}`);
  const model = buildModel(config, pre([16, 16, 3]));
  const pool = model.getLayer('avg_pool');
  assert.equal(pool.getClassName(), 'GlobalAveragePooling2D');
  assert.deepEqual(pool.outputShape, [null, 16]);
  // Stage 2 and 3 halve the resolution through stride-2 blocks with projection shortcuts.
  assert.deepEqual(model.getLayer('conv3_block1_0_conv').outputShape, [null, 8, 8, 8]);
  assert.deepEqual(model.getLayer('conv4_block1_2_conv').outputShape, [null, 4, 4, 16]);
  model.dispose();
});

test('the resnet50 preset has the layer names and parameter count of keras.applications.ResNet50 (no top)', () => {
  const config = configFrom(`${imageData}\nmodel: {backbone: {type: resnet, preset: resnet50}}\n${tasks}`);
  const model = buildModel(config, pre([64, 64, 3], 2, 1));
  const headParams = 2048 * 2 + 2 + 2048 * 1 + 1;
  // keras.applications.ResNet50(include_top=False, weights=None).count_params() == 23,587,712
  assert.equal(model.countParams() - headParams, 23587712);
  for (const name of ['conv1_conv', 'conv1_bn', 'pool1_pool', 'conv2_block1_0_conv', 'conv2_block3_3_bn', 'conv5_block3_out', 'avg_pool']) {
    assert.ok(model.getLayer(name), name);
  }
  assert.deepEqual(model.getLayer('conv5_block3_out').outputShape, [null, 2, 2, 2048]);
  model.dispose();
});

test('resnet18 and resnet34 presets use basic blocks with 2,2,2,2 and 3,4,6,3 blocks', () => {
  assert.deepEqual(resolveResnet({ type: 'resnet', preset: 'resnet18' }).blocks, [2, 2, 2, 2]);
  assert.deepEqual(resnetPresets.resnet34.blocks, [3, 4, 6, 3]);
  assert.equal(resnetPresets.resnet34.block, 'basic');
});

test('the same seed gives the same initial weights, another seed different ones', () => {
  const yaml = (seed: number) => `seed: ${seed}\n${tableData}\nmodel: {backbone: {type: mlp, units: [8]}}\n${tasks}`;
  const first = (seed: number) => {
    const model = buildModel(configFrom(yaml(seed)), pre([4]));
    const values = Array.from(model.getWeights()[0].dataSync());
    model.dispose();
    return values;
  };
  assert.deepEqual(first(1), first(1));
  assert.notDeepEqual(first(1), first(2));
});
