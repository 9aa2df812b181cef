/**
 * Every sharing scheme's checkpoint is an ordinary tfjs layers model: a separate Node
 * process that loads only stock @tensorflow/tfjs-core, -layers and -backend-cpu (none of
 * mtl's code, so none of its layers are registered) reads model.json and its weights the
 * way a browser does (tf.io.http, here with a fetch that reads the files) and predicts
 * what mtl predicts. Text encoders use mtl's own layers and are not covered.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backends';
import { trainCommand } from '../../src/api/train';
import { loadCheckpoint } from '../../src/outputs/checkpoint';
import { Rng } from '../../src/data/rng';
import { silentProgress } from '../../src/training/progress';
import { writeMixedTable } from '../helpers/mixed-table';
import { captureOutput } from '../helpers/output';
import { repoRoot, tempDir, writeFile } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'cpu' });
});

const stockLoader = `
const fs = require('node:fs');
const path = require('node:path');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tfl = require('@tensorflow/tfjs-layers');
(async () => {
  await tf.setBackend('cpu');
  const cases = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
  const fetchFunc = async (url) => new Response(fs.readFileSync(decodeURIComponent(new URL(url).pathname)));
  const out = [];
  for (const c of cases) {
    const model = await tfl.loadLayersModel(tf.io.http('http://checkpoint' + path.join(c.dir, 'model.json'), { fetchFunc }));
    const inputs = c.inputs.map((i) => tf.tensor(i.values, i.shape));
    const preds = model.predict(inputs.length === 1 ? inputs[0] : inputs);
    out.push((Array.isArray(preds) ? preds : [preds]).map((p) => Array.from(p.dataSync())));
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
`;

/** A few samples for every model input: integer ids for an embedding's input, values in [0, 1) otherwise. */
function sampleInputs(model: tfl.LayersModel, rng: Rng): { shape: number[]; values: number[] }[] {
  return model.inputLayers.map((layer) => {
    const shape = [4, ...(model.inputs[model.inputLayers.indexOf(layer)].shape.slice(1) as number[])];
    const embedding = layer.outboundNodes.map((n) => n.outboundLayer).find((l) => l.getClassName() === 'Embedding');
    const ids = embedding ? (embedding.getConfig().inputDim as number) : 0;
    const size = shape.reduce((a, b) => a * b, 1);
    return { shape, values: Array.from({ length: size }, () => (ids ? rng.int(ids) : rng.uniform(0, 1))) };
  });
}

const dir = tempDir();

// Image, numeric and category (embedding) inputs through an mlp with batch norm and dropout;
// an image alone through a ResNet, where cross-stitch units and PLE's inner gates mix feature maps,
// with heads of hidden layers (and dropout) on top.
const cases: { name: string; inputs: string; backbone: string; sharing: string; head?: string }[] = [
  ...['{type: hard}', '{type: soft}', '{type: cross_stitch}', '{type: mmoe}', '{type: ple}'].map((sharing) => ({
    name: `mixed ${sharing}`,
    inputs: '[{name: image, type: image, encoder: {filters: [4], blocks: [1]}}, {name: x, type: numeric}, {name: color, type: category, encoder: embedding, dim: 2}]',
    backbone: '{type: mlp, units: [8, 6], batch_norm: true, dropout: 0.1}',
    sharing,
  })),
  ...['{type: cross_stitch}', '{type: mmoe, experts: 2}', '{type: ple}'].map((sharing) => ({
    name: `image ${sharing}`,
    inputs: '[{name: image, type: image}]',
    backbone: '{type: resnet, filters: [4, 8], blocks: [1, 1]}',
    sharing,
    head: '{units: [5, 3], dropout: 0.1}',
  })),
];

test('every sharing scheme writes checkpoints that stock tfjs-layers loads, with the same predictions', async () => {
  const csv = writeMixedTable(path.join(dir, 'mixed'), 64);
  const rng = new Rng(7);
  const loaded: { name: string; dir: string; inputs: { shape: number[]; values: number[] }[]; expected: number[][] }[] = [];
  for (const [i, c] of cases.entries()) {
    const config = writeFile(
      dir,
      `case-${i}.yaml`,
      `data: {format: csv, path: ${csv}, inputs: ${c.inputs}}
model: {backbone: ${c.backbone}, sharing: ${c.sharing}, head: ${c.head ?? '{}'}}
tasks:
  total: {type: classification, target: label}
  score: {type: regression, target: score}
training: {epochs: 2, batch_size: 16, optimizer: {type: adam, learning_rate: 0.01}}
`,
    );
    const out = path.join(dir, `run-${i}`);
    await trainCommand({ config, out, threads: 1, backend: 'cpu' }, captureOutput(), silentProgress);
    const checkpoint = path.join(out, 'checkpoints', 'best');
    const { model } = await loadCheckpoint(checkpoint);
    const inputs = sampleInputs(model, rng);
    const tensors = inputs.map((x) => tf.tensor(x.values, x.shape));
    const preds = model.predict(tensors.length === 1 ? tensors[0] : tensors);
    const expected = (Array.isArray(preds) ? preds : [preds]).map((p) => Array.from(p.dataSync()));
    loaded.push({ name: c.name, dir: checkpoint, inputs, expected });
  }
  const casesFile = writeFile(dir, 'cases.json', JSON.stringify(loaded.map(({ dir, inputs }) => ({ dir, inputs }))));
  let stdout: string;
  try {
    stdout = execFileSync(process.execPath, ['-e', stockLoader, casesFile], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    assert.fail(`stock tfjs-layers could not load a checkpoint: ${(e as { stderr?: string }).stderr ?? String(e)}`);
  }
  const got = JSON.parse(stdout) as number[][][];
  for (const [i, c] of loaded.entries()) {
    assert.equal(got[i].length, c.expected.length, c.name);
    c.expected.forEach((want, o) => {
      const worst = Math.max(...want.map((v, j) => Math.abs(v - got[i][o][j]) / Math.max(1, Math.abs(v))));
      assert.ok(worst < 1e-4, `${c.name}, output ${o}: stock tfjs predicts within 1e-4 of mtl (worst ${worst})`);
    });
  }
});
