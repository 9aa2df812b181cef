/**
 * Inference in chunks: a batch whose layer outputs would be large is applied a chunk of
 * rows at a time (the wasm heap keeps its peak), with the outputs of one whole apply.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backends';
import type { Split } from '../../src/data/types';
import { chunkRows, INFERENCE_BATCH, scoreBatches } from '../../src/training/evaluate';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

function convModel(filters: number): tfl.LayersModel {
  const input = tfl.input({ shape: [64, 64, 3] });
  const conv = tfl.layers.conv2d({ filters, kernelSize: 1, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(conv) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(pooled) as tfl.SymbolicTensor });
}

test('a batch with large layer outputs is scored in chunks, with the outputs of one whole apply; small ones in one', () => {
  const small = convModel(4);
  assert.equal(chunkRows(small), INFERENCE_BATCH);
  const model = convModel(24);
  assert.ok(chunkRows(model) < INFERENCE_BATCH, `64x64x24 floats a row: ${chunkRows(model)} rows a chunk`);
  const n = 300;
  const values = Float32Array.from({ length: n * 64 * 64 * 3 }, (_, i) => Math.sin(i * 0.011));
  const split: Split = { size: n, inputs: [{ name: 'image', shape: [64, 64, 3], packed: false, values }], targets: {}, rows: Int32Array.from({ length: n }, (_, i) => i) };
  const tensors = tf.memory().numTensors;
  const chunked = new Float32Array(n * 3);
  scoreBatches(model, split, [chunked], 0, 0, 1);
  assert.equal(tf.memory().numTensors, tensors);
  const whole = tf.tidy(() => (model.apply(tf.tensor(values, [n, 64, 64, 3]), { training: false }) as tf.Tensor).dataSync() as Float32Array);
  const worst = chunked.reduce((m, v, i) => Math.max(m, Math.abs(v - whole[i])), 0);
  assert.ok(worst < 1e-5, `largest difference ${worst}`);
  assert.ok(chunked.some((v) => v !== 0));
  small.dispose();
  model.dispose();
});
