/**
 * A training step of mtl's `cnn` text encoder (two conv1d layers, kernel 3, 'same', over
 * 32 tokens of 16 channels) on wasm, whose convolutions and both their gradients take
 * the 1-D Winograd kernels, against tfjs's stock kernels on the cpu backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { convGeometry } from '../../../src/backends/kernels/conv-geometry';
import { forwardPlan, inputGradPlan } from '../../../src/backends/kernels/conv-plans';
import { tileName, winogradTaps, winogradTile } from '../../../src/backends/kernels/wasm/simd/winograd';
import { winogradFilterGradTile } from '../../../src/backends/kernels/wasm/simd/winograd-filter-grad';
import { Rng } from '../../../src/data/rng';
import { cnnEncoder } from '../../../src/inputs/text-encoders/cnn';
import { assertGradientsMatch, countCalls } from './helpers';

registerWasmTrainingKernels();

const BATCH = 3;
const TOKENS = 32;
const DIM = 16;
const VOCAB = 40;

function buildTextCnn(): tfl.LayersModel {
  const ids = tfl.input({ shape: [TOKENS], name: 'text' });
  const encoded = cnnEncoder(ids, {
    prefix: 'text_', vocabSize: VOCAB, maxLength: TOKENS, embeddingDim: DIM, layers: 2, heads: 1, dropout: 0, kernelSize: 3, rng: new Rng(7),
  });
  const logits = tfl.layers.dense({ units: 3, name: 'logits' }).apply(encoded) as tfl.SymbolicTensor;
  return tfl.model({ inputs: ids, outputs: logits });
}

/** Token ids with padding at the end of every text but the first. */
function tokenIds(): tf.Tensor {
  const ids = new Float32Array(BATCH * TOKENS);
  for (let b = 0; b < BATCH; b++) {
    const length = b === 0 ? TOKENS : 5 + 9 * b;
    for (let t = 0; t < length; t++) ids[b * TOKENS + t] = 1 + ((b * 13 + t * 7) % (VOCAB - 1));
  }
  return tf.tensor2d(ids, [BATCH, TOKENS]);
}

async function gradients(backend: string, weights: Float32Array[] | null) {
  await tf.setBackend(backend);
  const model = buildTextCnn();
  if (weights !== null) model.setWeights(weights.map((w, i) => tf.tensor(w, model.getWeights()[i].shape)));
  const ids = tokenIds();
  const labels = tf.oneHot(tf.tensor1d([0, 2, 1], 'int32'), 3);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const loss = () => tf.losses.softmaxCrossEntropy(labels, tf.mul(model.apply(ids, { training: true }) as tf.Tensor, 4)) as tf.Scalar;
  const { value, grads } = tf.variableGrads(loss, variables);
  const out = {
    weights: model.getWeights().map((w) => w.dataSync() as Float32Array),
    loss: value.dataSync()[0],
    grads: variables.map((v, k) => ({ name: model.trainableWeights[k].originalName, values: grads[v.name].dataSync() as Float32Array })),
  };
  tf.dispose([ids, labels, value, ...Object.values(grads)]);
  model.dispose();
  return out;
}

test("the text cnn's conv1d layers take F(1x4,1x3) forward and for both gradients", () => {
  const x: [number, number, number, number] = [BATCH, 1, TOKENS, DIM];
  const filter: [number, number, number, number] = [1, 3, DIM, DIM];
  const info = tf.backend_util.computeConv2DInfo(x, filter, 1, 1, 'same');
  const forward = forwardPlan(info, false, false).spec;
  const g = convGeometry(x, filter, { strides: 1, pad: 'same', dataFormat: 'NHWC' });
  const input = inputGradPlan(g).phases[0].spec;
  for (const spec of [forward, input]) {
    assert.ok(winogradTaps(spec) !== null);
    assert.equal(tileName(winogradTile(spec)!), 'F(1x4,1x3)');
  }
  assert.equal(tileName(winogradFilterGradTile(g)!), 'F(1x4,1x3)');
});

test("a text cnn training step on wasm gives the cpu backend's loss and gradients", async () => {
  const cpu = await gradients('cpu', null);
  let wasm = cpu;
  const filterGradCalls = await countCalls('Conv2DBackpropFilter', 'wasm', async () => {
    const inputGradCalls = await countCalls('Conv2DBackpropInput', 'wasm', async () => {
      // The Conv1D layers train through FusedConv2D (bias and relu inside the convolution).
      const forwardCalls = await countCalls('FusedConv2D', 'wasm', async () => { wasm = await gradients('wasm', cpu.weights); });
      assert.equal(forwardCalls, 2, 'both layers run the mtl forward kernel');
    });
    assert.equal(inputGradCalls, 2, 'both layers run the mtl input gradient (the first one for the embedding)');
  });
  assert.equal(filterGradCalls, 2, 'both layers run the mtl filter gradient');
  assert.ok(Math.abs(wasm.loss - cpu.loss) <= 1e-5 * Math.abs(cpu.loss) + 1e-6, `loss ${wasm.loss} vs ${cpu.loss}`);
  assert.deepEqual(wasm.grads.map((g) => g.name), cpu.grads.map((g) => g.name));
  assert.ok(cpu.grads.length === 7, `${cpu.grads.length} trainable weights`);
  assertGradientsMatch(wasm.grads, cpu.grads, { rtol: 1e-4, atol: 1e-7, nonZero: true });
});
