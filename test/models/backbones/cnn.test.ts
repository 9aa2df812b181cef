import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerCpuTrainingKernels } from '../../../src/backends/kernels/cpu';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { buildModel } from '../../../src/models/build';
import { ConfigError } from '../../../src/errors';
import type { Preprocessing } from '../../../src/data/types';
import { configFrom } from '../../helpers/config';
import { singleInput } from '../../helpers/features';
import { assertGradientsMatch, countCalls, randomTensor } from '../../backends/kernels/helpers';

const imageData = `data: {format: idx, images: i.idx, targets: {left: l.idx, right: r.idx}}`;
const tasks = `tasks:
  left: {type: classification, target: left}
  right: {type: classification, target: right}`;

function pre(shape: number[], classes = 10): Preprocessing {
  const target = (column: string) => ({ kind: 'classification' as const, column, classes: Array.from({ length: classes }, (_, i) => `c${i}`) });
  return { kind: shape.length === 1 ? 'table' : 'image', inputs: singleInput(shape), targets: { left: target('left'), right: target('right') } };
}

function cnnModel(backbone: string, shape: number[], sharing = 'hard', classes = 10): tfl.LayersModel {
  return buildModel(configFrom(`${imageData}\nmodel: {backbone: ${backbone}, sharing: {type: ${sharing}}}\n${tasks}`), pre(shape, classes));
}

let wasmReady = false;
/**
 * The wasm backend with mtl's training kernels; cpu is the stock tfjs kernels (the
 * reference wasm's gradients are checked against) until `mtlCpu` registers mtl's own.
 */
async function useBackend(name: 'cpu' | 'wasm', mtlCpu = false): Promise<void> {
  if (!wasmReady) {
    await tf.setBackend('wasm');
    await tf.ready();
    registerWasmTrainingKernels();
    wasmReady = true;
  }
  await tf.setBackend(name);
  if (mtlCpu) registerCpuTrainingKernels();
}

test('the default cnn is the MultiLeNet trunk: 5x5 valid convs of 10 and 20 filters, 2x2 pools, dense 50', async () => {
  await useBackend('cpu');
  const model = cnnModel('{type: cnn}', [28, 28, 1]);
  const shapes = Object.fromEntries(['conv_1', 'pool_1', 'conv_2', 'pool_2', 'flatten', 'dense_1'].map((n) => [n, model.getLayer(n).outputShape]));
  assert.deepEqual(shapes, {
    conv_1: [null, 24, 24, 10],
    pool_1: [null, 12, 12, 10],
    conv_2: [null, 8, 8, 20],
    pool_2: [null, 4, 4, 20],
    flatten: [null, 320],
    dense_1: [null, 50],
  });
  // conv 5*5*1*10+10, conv 5*5*10*20+20, dense 320*50+50, two heads 50*10+10
  assert.equal(model.countParams(), 260 + 5020 + 16050 + 2 * 510);
  const x = tf.randomUniform([3, 28, 28, 1]);
  const outputs = model.predict(x) as tf.Tensor[];
  assert.deepEqual(outputs.map((o) => o.shape), [[3, 10], [3, 10]]);
  tf.dispose([x, ...outputs]);
  model.dispose();
});

test('cnn options: same padding, three blocks, 3x3 kernels, two dense layers with dropout', async () => {
  await useBackend('cpu');
  const same = cnnModel('{type: cnn, padding: same}', [28, 28, 1]);
  assert.deepEqual(same.getLayer('conv_2').outputShape, [null, 14, 14, 20]);
  assert.deepEqual(same.getLayer('flatten').outputShape, [null, 7 * 7 * 20]);
  same.dispose();
  // 30 -> conv 28 -> pool 14 -> conv 12 -> pool 6 -> conv 4 -> pool 2
  const deep = cnnModel('{type: cnn, filters: [4, 8, 16], kernel_size: 3, units: [32, 16], dropout: 0.25}', [30, 30, 3]);
  assert.deepEqual(deep.getLayer('pool_3').outputShape, [null, 2, 2, 16]);
  assert.deepEqual(deep.getLayer('flatten').outputShape, [null, 64]);
  assert.deepEqual(deep.getLayer('dense_2').outputShape, [null, 16]);
  assert.equal(deep.getLayer('dense_2_dropout').getClassName(), 'Dropout');
  deep.dispose();
});

test('a cnn on table rows, or on images too small for its blocks, is a config error that says why', () => {
  assert.throws(() => cnnModel('{type: cnn}', [6]), (e: unknown) => e instanceof ConfigError && /needs image input/.test(e.message));
  assert.throws(
    () => cnnModel('{type: cnn}', [12, 12, 1]),
    (e: unknown) => e instanceof ConfigError && /12x12 images are too small .* block 2 leaves nothing/.test(e.message),
  );
});

test('cnn stages work under soft and cross-stitch sharing (task copies mixed between conv blocks)', async () => {
  await useBackend('cpu');
  const stitched = cnnModel('{type: cnn, filters: [4, 8], units: [16]}', [28, 28, 1], 'cross_stitch');
  // a unit after every stage but the last: after each of the two conv blocks
  assert.ok(stitched.getLayer('cross_stitch_1_left') && stitched.getLayer('cross_stitch_2_right'));
  assert.throws(() => stitched.getLayer('cross_stitch_3_left'));
  const x = tf.randomUniform([2, 28, 28, 1]);
  const outputs = stitched.predict(x) as tf.Tensor[];
  assert.deepEqual(outputs.map((o) => o.shape), [[2, 10], [2, 10]]);
  tf.dispose([x, ...outputs]);
  stitched.dispose();
  const soft = cnnModel('{type: cnn, filters: [4, 8], units: [16]}', [28, 28, 1], 'soft');
  assert.ok(soft.layers.some((l) => l.name.endsWith('conv_2')));
  soft.dispose();
});

const BATCH = 8;
const CLASSES = 4;

function batch(shape: number[]) {
  const x = tf.tidy(() => tf.abs(randomTensor([BATCH, ...shape], 11)));
  const left = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), CLASSES);
  const right = tf.oneHot(tf.tensor1d([1, 2, 3, 0, 3, 0, 1, 2], 'int32'), CLASSES);
  return { x, left, right };
}

function lossOf(model: tfl.LayersModel, data: ReturnType<typeof batch>): tf.Scalar {
  const [a, b] = model.apply(data.x, { training: true }) as tf.Tensor[];
  return tf.add(tf.losses.softmaxCrossEntropy(data.left, a), tf.losses.softmaxCrossEntropy(data.right, b)) as tf.Scalar;
}

/** Loss and gradients of every trainable weight on `backend`, from the given initial weights. */
async function gradients(backend: 'cpu' | 'wasm', backbone: string, shape: number[], weights: Float32Array[] | null) {
  await useBackend(backend);
  const model = cnnModel(backbone, shape, 'hard', CLASSES);
  if (weights !== null) model.setWeights(weights.map((w, i) => tf.tensor(w, model.getWeights()[i].shape)));
  const data = batch(shape);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => lossOf(model, data), variables);
  const out = {
    weights: model.getWeights().map((w) => w.dataSync() as Float32Array),
    loss: value.dataSync()[0],
    grads: variables.map((v, k) => ({ name: model.trainableWeights[k].originalName, values: grads[v.name].dataSync() as Float32Array })),
  };
  tf.dispose([data.x, data.left, data.right, value, ...Object.values(grads)]);
  model.dispose();
  return out;
}

for (const padding of ['valid', 'same'] as const) {
  test(`a 5x5 cnn (${padding} padding) gives the stock cpu backend's loss and gradients on wasm, through mtl's conv and pool kernels`, async () => {
    const backbone = `{type: cnn, filters: [6, 8], kernel_size: 5, padding: ${padding}, units: [12]}`;
    const shape = [20, 20, 1];
    const cpu = await gradients('cpu', backbone, shape, null);
    let wasm = cpu;
    const filterCalls = await countCalls('Conv2DBackpropFilter', 'wasm', async () => {
      const poolCalls = await countCalls('MaxPoolGrad', 'wasm', async () => {
        wasm = await gradients('wasm', backbone, shape, cpu.weights);
      });
      assert.equal(poolCalls, 2, 'both max pools have a gradient on wasm');
    });
    assert.equal(filterCalls, 2, 'both convolutions use the mtl filter gradient');
    assert.ok(Math.abs(wasm.loss - cpu.loss) <= 1e-4 * Math.abs(cpu.loss), `loss ${wasm.loss} vs ${cpu.loss}`);
    assert.equal(wasm.grads.length, 10, 'kernel and bias of the two convs, the dense layer and the two heads');
    assertGradientsMatch(wasm.grads, cpu.grads, { rtol: 1e-3, atol: 1e-6, nonZero: true });
  });
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`a cnn trains on ${backend} (with mtl's kernels): a few Adam steps on one batch lower the loss`, async () => {
    await useBackend(backend, backend === 'cpu');
    const shape = [28, 28, 1];
    const model = cnnModel('{type: cnn}', shape, 'hard', CLASSES);
    const data = batch(shape);
    const optimizer: tf.Optimizer = tf.train.adam(3e-3);
    const losses: number[] = [];
    for (let step = 0; step < 12; step++) {
      const { value, grads } = tf.variableGrads(() => lossOf(model, data));
      optimizer.applyGradients(grads);
      losses.push(value.dataSync()[0]);
      tf.dispose([value, ...Object.values(grads)]);
    }
    assert.ok(losses.every(Number.isFinite), `finite losses ${losses}`);
    assert.ok(losses[losses.length - 1] < 0.6 * losses[0], `loss falls from ${losses[0]} to ${losses[losses.length - 1]}`);
    tf.dispose([data.x, data.left, data.right]);
    optimizer.dispose();
    model.dispose();
  });
}
