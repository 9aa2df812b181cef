import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../../src/backends';
import { registerCpuTrainingKernels } from '../../../src/backends/kernels/cpu';
import { batchNormalization, FusedBatchNormalization } from '../../../src/models/layers/batch-norm';
import { Rng } from '../../../src/data/rng';
import { assertClose } from '../../helpers/compare';
import { CHANNEL_AFFINE } from '../../../src/backends/kernels/batch-norm';
import { countCalls } from '../../backends/kernels/helpers';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
  registerCpuTrainingKernels();
});

/** Output, input/gamma/beta gradients of sum(bn(x) · r) and the moving statistics after one training call. */
function run(layer: tfl.layers.Layer, x: tf.Tensor, r: tf.Tensor) {
  layer.build(x.shape);
  const gamma = layer.getWeights()[0];
  const beta = layer.getWeights()[1];
  layer.setWeights([tf.randomUniform(gamma.shape, 0.5, 1.5, 'float32', 3), tf.randomNormal(beta.shape, 0, 1, 'float32', 4), ...layer.getWeights().slice(2)]);
  const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, r)) as tf.Scalar, vars);
  const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, r)))(x);
  return {
    y: (layer.apply(x, { training: true }) as tf.Tensor).dataSync(),
    dx: dx.dataSync(),
    dgamma: grads[vars[0].name].dataSync(),
    dbeta: grads[vars[1].name].dataSync(),
    moving: layer.getWeights().slice(2).map((w) => w.dataSync()),
  };
}

test('fused batch norm matches tfjs batch norm: output, gradients and moving statistics', () => {
  const rng = new Rng(5);
  // Channels not a multiple of 4 take the JS loops, the others the SIMD kernels on wasm.
  for (const shape of [[3, 4, 5, 6], [7, 3], [4, 5, 5, 8], [300, 12]]) {
    const x = tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal() * 2 + 1), shape);
    const r = tf.tensor(Float32Array.from({ length: x.size }, () => rng.normal()), shape);
    const fused = run(batchNormalization({ momentum: 0.9 }), x, r);
    const stock = run(tfl.layers.batchNormalization({ momentum: 0.9 }), x, r);
    assertClose(fused.y, stock.y, 1e-4, 1e-5, 'y');
    assertClose(fused.dx, stock.dx, 1e-3, 1e-4, 'dx');
    assertClose(fused.dgamma, stock.dgamma, 1e-4, 1e-4, 'dgamma');
    assertClose(fused.dbeta, stock.dbeta, 1e-4, 1e-4, 'dbeta');
    fused.moving.forEach((m, i) => assertClose(m, stock.moving[i], 1e-5, 1e-6, `moving ${i}`));
  }
});

test('its gradient matches central finite differences', () => {
  const rng = new Rng(9);
  const shape = [2, 3, 3, 4]; // 4 channels: the SIMD path on wasm
  const x = Float32Array.from({ length: 72 }, () => rng.normal());
  const r = tf.tensor(Float32Array.from({ length: 72 }, () => rng.normal()), shape);
  const layer = batchNormalization({});
  const loss = (v: Float32Array) => tf.tidy(() => tf.sum(tf.mul(layer.apply(tf.tensor(v, shape), { training: true }) as tf.Tensor, r)).dataSync()[0]);
  const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, r)))(tf.tensor(x, shape)).dataSync();
  for (const i of [0, 17, 40, 71]) {
    const p = Float32Array.from(x);
    const m = Float32Array.from(x);
    p[i] += 1e-2;
    m[i] -= 1e-2;
    assertClose([dx[i]], [(loss(p) - loss(m)) / 2e-2], 2e-2, 2e-2, `dx[${i}]`);
  }
});

test('saved models deserialize batch norm as the fused layer under the standard class name', async () => {
  const input = tfl.input({ shape: [4] });
  const model = tfl.model({ inputs: input, outputs: batchNormalization({ name: 'bn' }).apply(input) as tfl.SymbolicTensor });
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  assert.match(JSON.stringify(saved!.modelTopology), /"class_name":"BatchNormalization"/);
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
  assert.ok(loaded.getLayer('bn') instanceof FusedBatchNormalization);
});

test('inference mode matches tfjs batch norm with the same moving statistics', () => {
  const rng = new Rng(11);
  const x = tf.tensor(Float32Array.from({ length: 2 * 3 * 3 * 5 }, () => rng.normal()), [2, 3, 3, 5]);
  const fused = batchNormalization({});
  const stock = tfl.layers.batchNormalization({});
  fused.build(x.shape);
  stock.build(x.shape);
  const weights = [tf.randomUniform([5], 0.5, 2, 'float32', 1), tf.randomNormal([5], 0, 1, 'float32', 2), tf.randomNormal([5], 0, 1, 'float32', 3), tf.randomUniform([5], 0.1, 3, 'float32', 4)];
  fused.setWeights(weights);
  stock.setWeights(weights);
  assertClose((fused.apply(x) as tf.Tensor).dataSync(), (stock.apply(x) as tf.Tensor).dataSync(), 1e-5, 1e-5, 'inference output');
});

test('inference mode is one MtlChannelAffine pass on wasm and cpu, equal to a Multiply and an Add bit for bit, with the same gradients', async () => {
  const rng = new Rng(13);
  // 8 channels take the SIMD path on wasm, 5 the scalar rest.
  for (const shape of [[2, 3, 3, 8], [4, 5], [3, 2, 2, 7]]) {
    const c = shape[shape.length - 1];
    const x = tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal() * 3), shape);
    const weights = [tf.randomUniform([c], 0.5, 2, 'float32', 1), tf.randomNormal([c], 0, 1, 'float32', 2), tf.randomNormal([c], 0, 1, 'float32', 3), tf.randomUniform([c], 0.1, 3, 'float32', 4)];
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      const layer = batchNormalization({});
      layer.build(x.shape);
      layer.setWeights(weights);
      const [gamma, beta, mean, variance] = weights;
      const a = tf.mul(gamma, tf.rsqrt(tf.add(variance, 0.001)));
      const b = tf.sub(beta, tf.mul(mean, a));
      const want = tf.add(tf.mul(x, a), b).dataSync();
      let got: Float32Array | undefined;
      const calls = await countCalls(CHANNEL_AFFINE, backend, () => void (got = (layer.apply(x) as tf.Tensor).dataSync() as Float32Array));
      assert.equal(calls, 1, `${backend} ${shape}: one kernel`);
      assert.deepEqual(Array.from(got!), Array.from(want), `${backend} ${shape}: the same values`);
      // Gradients through inference mode (the gradient diagnostics take them).
      const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      const r = tf.randomNormal(shape, 0, 1, 'float32', 9);
      const loss = (f: (t: tf.Tensor) => tf.Tensor) => () => tf.sum(tf.mul(f(x), r)) as tf.Scalar;
      const ours = tf.variableGrads(loss((t) => layer.apply(t) as tf.Tensor), vars).grads;
      const theirs = tf.variableGrads(loss((t) => tf.add(tf.mul(t, tf.mul(vars[0], tf.rsqrt(tf.add(variance, 0.001)))), tf.sub(vars[1], tf.mul(mean, tf.mul(vars[0], tf.rsqrt(tf.add(variance, 0.001))))))), vars).grads;
      for (const v of vars) assertClose(ours[v.name].dataSync(), theirs[v.name].dataSync(), 1e-5, 1e-6, `${backend} ${shape}: d${v.name}`);
      const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t) as tf.Tensor, r)))(x);
      assertClose(dx.dataSync(), tf.mul(r, a).dataSync(), 1e-6, 1e-7, `${backend} ${shape}: dx`);
    }
  }
  await tf.setBackend('wasm');
});
