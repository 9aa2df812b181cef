import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backends';
import { conv2d } from '../../src/models/layers/conv2d';
import { batchNormalization } from '../../src/models/layers/batch-norm';
import { disposeModel, foldCounts, freezeForInference, withFoldedBatchNorms } from '../../src/models/inference-fold';
import { assertClose } from '../helpers/compare';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

type Factories = { conv: typeof conv2d; bn: typeof batchNormalization };
const mtlLayers: Factories = { conv: conv2d, bn: batchNormalization };
const stockLayers: Factories = { conv: tfl.layers.conv2d, bn: tfl.layers.batchNormalization };

/**
 * conv(bias) → bn → relu (folds with its relu); conv → bn → add (folds, no relu), the add's
 * relu folds into it; an add without a relu after it (does not fold); a conv
 * read by two layers (does not fold); conv → bn whose output is also a model output (folds,
 * but not the relu after it).
 */
function network(layers: Factories): tfl.LayersModel {
  const x = tfl.input({ shape: [6, 6, 3] });
  const relu = (h: tfl.SymbolicTensor) => tfl.layers.activation({ activation: 'relu' }).apply(h) as tfl.SymbolicTensor;
  const conv = (h: tfl.SymbolicTensor, filters: number, kernelSize: number, useBias: boolean, strides = 1) =>
    layers.conv({ filters, kernelSize, strides, padding: 'same', useBias, kernelInitializer: tfl.initializers.glorotNormal({ seed: filters * kernelSize }) }).apply(h) as tfl.SymbolicTensor;
  const bn = (h: tfl.SymbolicTensor) => layers.bn({ axis: -1 }).apply(h) as tfl.SymbolicTensor;
  const a = relu(bn(conv(x, 8, 3, true)));
  const b = bn(conv(a, 8, 1, false));
  const sum = relu(tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor);
  const shared = conv(sum, 4, 3, false, 2);
  const both = tfl.layers.add().apply([bn(shared), shared]) as tfl.SymbolicTensor;
  const exposed = bn(conv(both, 4, 1, true));
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(relu(exposed)) as tfl.SymbolicTensor;
  const head = tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotNormal({ seed: 5 }) }).apply(pooled) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: [head, exposed] });
}

/** Batch norms with statistics far from the identity, so a wrong fold shows. */
function randomizeBatchNorms(model: tfl.LayersModel, seed: number): void {
  for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    const shape = layer.getWeights()[0].shape;
    seed += 4;
    layer.setWeights([
      tf.randomUniform(shape, 0.5, 2, 'float32', seed),
      tf.randomNormal(shape, 0, 1, 'float32', seed + 1),
      tf.randomNormal(shape, 0, 1, 'float32', seed + 2),
      tf.randomUniform(shape, 0.2, 3, 'float32', seed + 3),
    ]);
  }
}

const inference = (model: tfl.LayersModel, x: tf.Tensor) => tf.tidy(() => (model.apply(x, { training: false }) as tf.Tensor[]).map((y) => y.dataSync()));

for (const [name, layers] of [['mtl', mtlLayers], ['stock tfjs-layers', stockLayers]] as const) {
  test(`${name} layers: conv → batch norm (→ relu) and add → relu fold where nothing else reads what it skips, with the unfolded outputs`, () => {
    const model = network(layers);
    tf.tidy(() => randomizeBatchNorms(model, 10));
    assert.deepEqual(foldCounts(model), { batchNorms: 3, relus: 1, adds: 1 });
    const x = tf.randomNormal([5, 6, 6, 3], 0, 1, 'float32', 3);
    const plain = inference(model, x);
    const folded = withFoldedBatchNorms(model, () => inference(model, x));
    plain.forEach((p, i) => assertClose(folded[i], p, 1e-4, 1e-4, `output ${i}`));

    // Weights assigned since (training, loading) are folded again, not served stale.
    const tensors = tf.memory().numTensors;
    tf.tidy(() => {
      randomizeBatchNorms(model, 50);
      model.layers.filter((l) => l.getClassName() === 'Conv2D').forEach((l, i) => l.setWeights(l.getWeights().map((w) => tf.randomNormal(w.shape, 0, 0.3, 'float32', 90 + i))));
    });
    const plainAfter = inference(model, x);
    const foldedAfter = withFoldedBatchNorms(model, () => inference(model, x));
    plainAfter.forEach((p, i) => assertClose(foldedAfter[i], p, 1e-4, 1e-4, `output ${i} after new weights`));
    assert.notDeepEqual(Array.from(plainAfter[0]), Array.from(plain[0]));
    withFoldedBatchNorms(model, () => inference(model, x));
    assert.equal(tf.memory().numTensors, tensors, 'the folds replace their weights, they do not pile up');

    // Training mode is untouched by a fold, even inside its scope.
    const training = () => tf.tidy(() => (model.apply(x, { training: true }) as tf.Tensor[])[0].dataSync());
    assert.deepEqual(withFoldedBatchNorms(model, training), training());
    x.dispose();
    model.dispose();
  });
}

test('a model frozen for inference folds into its own weights: the same outputs in any inference call, no second copy, no training', () => {
  const model = network(mtlLayers);
  tf.tidy(() => randomizeBatchNorms(model, 20));
  const x = tf.randomNormal([3, 6, 6, 3], 0, 1, 'float32', 4);
  const plain = inference(model, x);
  const tensors = tf.memory().numTensors;
  const bytes = tf.memory().numBytes;
  freezeForInference(model);
  // The folded weights replace the convolutions' own; only the one without a bias gets a new one.
  assert.equal(tf.memory().numTensors, tensors + 1);
  assert.ok(tf.memory().numBytes < bytes + 1024, `${tf.memory().numBytes - bytes} bytes more`);
  const frozen = inference(model, x);
  plain.forEach((p, i) => assertClose(frozen[i], p, 1e-4, 1e-4, `output ${i}`));
  assert.throws(() => model.apply(x, { training: true }), /frozen for inference/);
  x.dispose();
  disposeModel(model);
});
