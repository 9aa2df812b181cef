import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../src/backends';
import { registerCpuTrainingKernels } from '../../src/backends/kernels/cpu';
import { conv2d } from '../../src/models/layers/conv2d';
import { batchNormalization } from '../../src/models/layers/batch-norm';
import { fuseReluForTraining } from '../../src/models/training-fusion';
import { BATCH_NORM_TRAIN } from '../../src/backends/kernels/batch-norm';
import { ADD_RELU } from '../../src/backends/kernels/add-relu';
import { countCalls } from '../backends/kernels/helpers';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
  registerCpuTrainingKernels();
});

/**
 * conv → bn → relu (fuses); conv → bn → add → relu (the add's relu fuses); an add without
 * a relu (nothing fuses); conv → bn whose output is also a model output (its relu does not fuse).
 */
function network(): tfl.LayersModel {
  const x = tfl.input({ shape: [6, 6, 3] });
  const relu = (h: tfl.SymbolicTensor) => tfl.layers.activation({ activation: 'relu' }).apply(h) as tfl.SymbolicTensor;
  const conv = (h: tfl.SymbolicTensor, filters: number, kernelSize: number, strides = 1) =>
    conv2d({ filters, kernelSize, strides, padding: 'same', useBias: false, kernelInitializer: tfl.initializers.glorotNormal({ seed: filters * kernelSize }) }).apply(h) as tfl.SymbolicTensor;
  const bn = (h: tfl.SymbolicTensor) => batchNormalization({ axis: -1, momentum: 0.9 }).apply(h) as tfl.SymbolicTensor;
  const a = relu(bn(conv(x, 8, 3)));
  const sum = relu(tfl.layers.add().apply([a, bn(conv(a, 8, 1))]) as tfl.SymbolicTensor);
  const shared = conv(sum, 4, 3, 2);
  const both = tfl.layers.add().apply([bn(shared), shared]) as tfl.SymbolicTensor;
  const exposed = bn(conv(both, 4, 1));
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(relu(exposed)) as tfl.SymbolicTensor;
  const head = tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotNormal({ seed: 5 }) }).apply(pooled) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: [head, exposed] });
}

/** Outputs, every weight's gradient of a loss on both outputs, and the moving statistics after the call: one training step's values. */
function trainingValues(model: tfl.LayersModel, x: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    let outputs: Float32Array[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const [head, exposed] = model.apply(x, { training: true }) as tf.Tensor[];
      outputs = [head.dataSync() as Float32Array, exposed.dataSync() as Float32Array];
      return tf.add(tf.sum(tf.square(head)), tf.sum(tf.mul(exposed, tf.randomNormal(exposed.shape, 0, 1, 'float32', 7)))) as tf.Scalar;
    }, vars);
    return [...outputs, value.dataSync() as Float32Array, ...vars.map((v) => grads[v.name].dataSync() as Float32Array), ...model.nonTrainableWeights.map((w) => w.read().dataSync() as Float32Array)];
  });
}

for (const backend of ['wasm', 'cpu']) {
  test(`on ${backend}, relus fuse into the batch norm or Add before them in training alone, with the unfused values (outputs, gradients, moving statistics)`, async () => {
    await tf.setBackend(backend);
    const plain = network();
    const fused = network();
    assert.deepEqual(fuseReluForTraining(fused), { batchNorms: 1, adds: 1 });
    assert.deepEqual(fuseReluForTraining(fused), { batchNorms: 1, adds: 1 }, 'once per model');
    const x = tf.randomNormal([5, 6, 6, 3], 0, 1, 'float32', 3);
    const want = trainingValues(plain, x);
    const tensors = tf.memory().numTensors;
    let got: Float32Array[] = [];
    const addRelus = await countCalls(ADD_RELU, backend, async () => {
      const batchNorms = await countCalls(BATCH_NORM_TRAIN, backend, () => void (got = trainingValues(fused, x)));
      assert.equal(batchNorms, 4);
    });
    assert.equal(addRelus, 1, 'the add → relu is one kernel');
    assert.equal(tf.memory().numTensors, tensors, 'no tensor left behind');
    assert.equal(got.length, want.length);
    // Equal value for value (a zero gradient may differ in sign only, which === ignores).
    got.forEach((values, i) => assert.ok(values.every((v, k) => v === want[i][k]), `value ${i} of the step differs`));
    // Inference calls are the layers' own.
    const inference = (m: tfl.LayersModel) => tf.tidy(() => (m.apply(x, { training: false }) as tf.Tensor[]).map((y) => Array.from(y.dataSync())));
    assert.deepEqual(inference(fused), inference(plain));
    x.dispose();
    plain.dispose();
    fused.dispose();
    await tf.setBackend('wasm');
  });
}

test('a relu does not fuse into a layer whose output a view of the model returns (a multi-task network\'s features)', () => {
  const x = tfl.input({ shape: [4, 4, 2] });
  const normalized = batchNormalization({ axis: -1 }).apply(conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(x) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
  const relu = tfl.layers.activation({ activation: 'relu' }).apply(normalized) as tfl.SymbolicTensor;
  const head = tfl.layers.dense({ units: 1 }).apply(tfl.layers.flatten().apply(relu) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: x, outputs: head });
  const features = tfl.model({ inputs: x, outputs: normalized });
  assert.deepEqual(fuseReluForTraining(model, [features]), { batchNorms: 0, adds: 0 });
  const input = tf.randomNormal([3, 4, 4, 2], 0, 1, 'float32', 1);
  const out = tf.tidy(() => Array.from((features.apply(input, { training: true }) as tf.Tensor).dataSync()));
  assert.ok(out.some((v) => v < 0), 'the features are the batch norm\'s output, negative values and all');
  input.dispose();
  model.dispose();
});
