import { singleInput } from '../helpers/features';
import path from 'node:path';
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backends';
import { buildModel } from '../../src/models/build';
import { asNetwork } from '../../src/models/network';
import { sharingRegistry } from '../../src/models/sharing';
import type { Preprocessing } from '../../src/data/types';
import { configFrom } from '../helpers/config';
import { taskLoss } from '../../src/training/losses';
import { asArray } from '../../src/training/evaluate';
import { trainCommand } from '../../src/api/train';
import { silentProgress } from '../../src/training/progress';
import { loadCheckpoint } from '../../src/outputs/checkpoint';
import { captureOutput } from '../helpers/output';
import { repoRoot, tempDir, writeFile } from '../helpers/tmp';
import * as tfl from '@tensorflow/tfjs-layers';
import { levelStages } from '../../src/models/sharing/ple';
import { CrossStitch } from '../../src/models/layers/cross-stitch';
import { loadBackboneWeights } from '../../src/models/pretrained';
import { saveCheckpoint } from '../../src/outputs/checkpoint';
import { ConfigError } from '../../src/errors';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

const pre: Preprocessing = {
  kind: 'table',
  inputs: singleInput([4]),
  targets: {
    a: { kind: 'classification', column: 'a', classes: ['x', 'y', 'z'] },
    b: { kind: 'regression', columns: ['b'], mean: [0], std: [1] },
    c: { kind: 'regression', columns: ['c'], mean: [0], std: [1] },
  },
};

function config(sharing: string, head = '{}') {
  return configFrom(`data: {format: csv, path: x.csv}
model: {backbone: {type: mlp, units: [8, 6]}, sharing: ${sharing}, head: ${head}}
tasks:
  a: {type: classification, target: a}
  b: {type: regression, target: b}
  c: {type: regression, target: c}`);
}

test('every sharing scheme builds a model with one output per task and the expected shared weights', () => {
  const expectShared: Record<string, boolean> = { hard: true, soft: false, cross_stitch: true, mmoe: true, ple: true };
  assert.deepEqual(Object.keys(expectShared).sort(), Object.keys(sharingRegistry).sort());
  for (const type of Object.keys(sharingRegistry)) {
    const model = buildModel(config(`{type: ${type}}`), pre);
    const net = asNetwork(model, ['a', 'b', 'c']);
    const out = model.predict(tf.ones([2, 4])) as tf.Tensor[];
    assert.deepEqual(out.map((o) => o.shape), [[2, 3], [2, 1], [2, 1]], type);
    assert.equal(net.shared.length > 0, expectShared[type], `${type} shared weights`);
    if (type === 'soft') assert.equal(net.copies.length, 4, 'two dense layers x kernel and bias, each with three copies');

    // The same scheme with a hidden head layer of 5 units: the heads grow, the rest does not.
    const headed = buildModel(config(`{type: ${type}}`, '{units: [5]}'), pre);
    const headedNet = asNetwork(headed, ['a', 'b', 'c']);
    // Per task: 6x5 + 5 hidden, then 5 -> outputs instead of 6 -> outputs (outputs 3, 1, 1).
    const extra = [3, 1, 1].reduce((n, o) => n + 6 * 5 + 5 + (5 * o + o) - (6 * o + o), 0);
    assert.equal(headed.countParams(), model.countParams() + extra, `${type} parameters`);
    assert.deepEqual(headedNet.heads.map((h) => h.layers.map((l) => l.name)), ['a', 'b', 'c'].map((t) => [`head_${t}.dense_1`, `head_${t}`]), type);
    assert.deepEqual(headedNet.featureIndex, net.featureIndex, `${type}: the heads see the same features`);
    assert.deepEqual(headedNet.features.outputs.map((o) => o.sourceLayer.name), net.features.outputs.map((o) => o.sourceLayer.name), type);
    assert.equal(headedNet.shared.length, net.shared.length, `${type}: no head weight is shared`);
    model.dispose();
    headed.dispose();
  }
});

test('cross-stitch units start near identity: a task keeps init_self of its own activations', () => {
  const model = buildModel(config('{type: cross_stitch, init_self: 0.8}'), pre);
  // One Dense over the task axis per stage: its kernel [T, T] is αᵀ, column t task t's row.
  const alpha = model.getLayer('cross_stitch_1').getWeights()[0].arraySync() as number[][];
  assert.deepEqual(alpha.map((row) => +row[1].toFixed(6)), [0.1, 0.8, 0.1]);
  assert.deepEqual(alpha.map((row) => +row[0].toFixed(6)), [0.8, 0.1, 0.1]);
});

test('soft sharing: each task copy gets no gradient from the other tasks (λ = 0 means independent models)', () => {
  const model = buildModel(config('{type: soft, lambda: 0}'), pre);
  const net = asNetwork(model, ['a', 'b', 'c']);
  const copy = (task: string) => model.layers.filter((l) => l.name.startsWith(`${task}__`)).flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
  const copyOfA = copy('a');
  const x = tf.randomNormal([5, 4], 0, 1, 'float32', 1);
  const { grads } = tf.variableGrads(() => {
    const outputs = asArray(net.model.apply(x, { training: true }));
    return taskLoss({ type: 'regression', target: 'b', loss: 'mse', huber_delta: 1, weight: 1, metrics: ['mae'] }, outputs[1], { values: tf.ones([5, 1]), labelled: 5 });
  }, [...copyOfA, ...copy('b')]);
  assert.ok(copy('b').some((v) => grads[v.name] && tf.max(tf.abs(grads[v.name])).dataSync()[0] > 0), 'b trains its own copy');
  for (const v of copyOfA) assert.ok(!grads[v.name] || tf.max(tf.abs(grads[v.name])).dataSync()[0] === 0, `${v.name} gets no gradient from b`);
});

test('soft sharing with a very large λ drives the copies together; λ = 0 leaves them apart', async () => {
  const dir = tempDir();
  const distance = async (lambda: number) => {
    const file = writeFile(
      dir,
      `soft-${lambda}.yaml`,
      `data: {format: csv, path: ${repoRoot}/datasets/penguins/penguins.csv, features: [bill_length_mm, bill_depth_mm, flipper_length_mm]}
model: {backbone: {type: mlp, units: [8]}, sharing: {type: soft, lambda: ${lambda}}}
tasks:
  species: {type: classification, target: species}
  mass: {type: regression, target: body_mass_g}
training: {epochs: 15, optimizer: {type: adam, learning_rate: 0.01}}`,
    );
    const out = `${dir}/run-${lambda}`;
    await trainCommand({ config: file, out }, captureOutput(), silentProgress);
    const { model } = await loadCheckpoint(`${out}/checkpoints/last`);
    const a = model.getLayer('species__dense_1').getWeights()[0];
    const b = model.getLayer('mass__dense_1').getWeights()[0];
    return tf.norm(tf.sub(a, b)).dataSync()[0];
  };
  const apart = await distance(0);
  const together = await distance(100);
  assert.ok(apart > 1, `independent copies stay apart (${apart})`);
  assert.ok(together < apart / 20, `λ = 100 pulls them together (${together} vs ${apart})`);
});

// ---------------------------------------------------------------- mixtures of experts

const x4 = () => tf.randomNormal([5, 4], 0, 1, 'float32', 3);

/** The outputs of these layers for input x. */
function outputsOf(model: tfl.LayersModel, names: string[], x: tf.Tensor): tf.Tensor[] {
  const probe = tfl.model({ inputs: model.inputs, outputs: names.map((n) => model.getLayer(n).output as tfl.SymbolicTensor) });
  const out = probe.predict(x);
  return Array.isArray(out) ? out : [out];
}

function assertGates(gates: tf.Tensor, experts: number, what: string) {
  assert.equal(gates.shape[1], experts, `${what}: one output per expert`);
  const values = gates.arraySync() as number[][];
  for (const row of values) {
    assert.ok(row.every((g) => g > 0 && g < 1), `${what}: softmax weights in (0, 1)`);
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `${what}: gates sum to 1 (${row})`);
  }
}

function sharedLayerNames(model: tfl.LayersModel, tasks: string[]): Set<string> {
  const shared = new Set(asNetwork(model, tasks).shared);
  return new Set(model.layers.filter((l) => l.trainableWeights.some((w) => shared.has(w.read() as tf.Variable))).map((l) => l.name));
}

test('mmoe: E expert backbones, one softmax gate per task, and each task sees Σ_e gate_e · expert_e', () => {
  const model = buildModel(config('{type: mmoe, experts: 4}'), pre);
  const x = x4();
  const experts = outputsOf(model, [1, 2, 3, 4].map((e) => `expert_${e}__dense_2_relu`), x);
  for (const e of experts) assert.deepEqual(e.shape, [5, 6]);
  for (const [t, task] of ['a', 'b', 'c'].entries()) {
    const [gates, features] = outputsOf(model, [`mmoe_${task}.gate`, `mmoe_${task}`], x);
    assertGates(gates, 4, `gate of ${task}`);
    const expected = tf.addN(experts.map((e, k) => tf.mul(e, tf.slice(gates, [0, k], [-1, 1]))));
    assert.ok(tf.max(tf.abs(tf.sub(features, expected))).dataSync()[0] < 1e-5, `${task}: the head input is the gated sum`);
    assert.equal((model.getLayer(`head_${task}`).input as tfl.SymbolicTensor).sourceLayer.name, `mmoe_${task}`, `head ${t}`);
  }
  // The experts feed every task; a gate feeds only its own task (as LibMTL's get_share_params).
  const shared = sharedLayerNames(model, ['a', 'b', 'c']);
  for (let e = 1; e <= 4; e++) assert.ok(shared.has(`expert_${e}__dense_1`) && shared.has(`expert_${e}__dense_2`), `expert ${e} is shared`);
  for (const task of ['a', 'b', 'c']) assert.ok(!shared.has(`mmoe_${task}.gate`), `gate of ${task} is not shared`);
});

test('ple: backbone stages divided among levels, task gates over own + shared experts, a shared gate at inner levels', () => {
  assert.deepEqual(levelStages(2, 2), [[0], [1]]);
  assert.deepEqual(levelStages(5, 2), [[0, 1, 2], [3, 4]]);
  assert.deepEqual(levelStages(3, 1), [[0, 1, 2]]);

  // Default: one level per stage (units [8, 6]: two levels).
  const model = buildModel(config('{type: ple, shared_experts: 2, task_experts: 1}'), pre);
  const names = new Set(model.layers.map((l) => l.name));
  const x = x4();
  for (const task of ['a', 'b', 'c']) {
    const [g1, g2] = outputsOf(model, [`ple_1_task_${task}.gate`, `ple_2_task_${task}.gate`], x);
    assertGates(g1, 3, `level 1 gate of ${task}`);
    assertGates(g2, 3, `level 2 gate of ${task}`);
  }
  assertGates(outputsOf(model, ['ple_1_shared.gate'], x)[0], 2 + 3, 'level 1 shared gate');
  assert.ok(!names.has('ple_2_shared.gate'), 'no shared gate at the last level');
  const [level1, level2] = outputsOf(model, ['task_a_expert_1__dense_1_relu', 'task_a_expert_1__dense_2_relu'], x);
  assert.deepEqual([level1.shape, level2.shape], [[5, 8], [5, 6]], 'level 1 experts are dense_1, level 2 experts dense_2');
  // Level-2 task experts take the task's level-1 mixture, shared ones the shared mixture.
  const inbound = (layer: string) => model.getLayer(layer).inboundNodes[0].inboundLayers[0].name;
  assert.equal(inbound('task_a_expert_1__dense_2'), 'ple_1_task_a');
  assert.equal(inbound('shared_expert_1__dense_2'), 'ple_1_shared');

  // Shared: shared experts, the inner shared gate and (through it) the level-1 task experts;
  // not: the last level's task experts and every task gate.
  const shared = sharedLayerNames(model, ['a', 'b', 'c']);
  for (const layer of ['shared_expert_1__dense_1', 'shared_expert_2__dense_2', 'ple_1_shared.gate', 'task_a_expert_1__dense_1']) assert.ok(shared.has(layer), `${layer} is shared`);
  for (const layer of ['task_a_expert_1__dense_2', 'task_c_expert_1__dense_2', 'ple_1_task_a.gate', 'ple_2_task_b.gate']) assert.ok(!shared.has(layer), `${layer} is not shared`);

  // One level (CGC): task experts and gates belong to their task alone.
  const cgc = buildModel(config('{type: ple, levels: 1}'), pre);
  const cgcShared = sharedLayerNames(cgc, ['a', 'b', 'c']);
  assert.ok(cgcShared.has('shared_expert_1__dense_2'));
  for (const layer of ['task_a_expert_1__dense_1', 'task_b_expert_1__dense_2', 'ple_1_task_c.gate']) assert.ok(!cgcShared.has(layer), `${layer} is not shared`);
  assert.ok(!cgc.layers.some((l) => l.name === 'ple_1_shared.gate'));

  assert.throws(() => buildModel(config('{type: ple, levels: 3}'), pre), (e) => e instanceof ConfigError && /model\.sharing\.levels: 3 levels need a backbone of at least 3 stages; this mlp backbone has 2/.test(e.message));
});

test('mmoe and ple mix feature maps too: a ResNet backbone on images', () => {
  const images: Preprocessing = { ...pre, inputs: singleInput([8, 8, 1]) };
  const yaml = (sharing: string) =>
    configFrom(`data: {format: idx, images: x.idx, targets: {a: a.idx, b: b.idx, c: c.idx}}
model: {backbone: {type: resnet, filters: [4, 8], blocks: [1, 1]}, sharing: ${sharing}}
tasks:
  a: {type: classification, target: a}
  b: {type: regression, target: b}
  c: {type: regression, target: c}`);
  const x = tf.randomUniform([3, 8, 8, 1], 0, 1, 'float32', 5);
  for (const sharing of ['{type: mmoe, experts: 2}', '{type: ple}']) {
    const model = buildModel(yaml(sharing), images);
    const out = model.predict(x) as tf.Tensor[];
    assert.deepEqual(out.map((o) => o.shape), [[3, 3], [3, 1], [3, 1]], sharing);
    assert.ok(out.every((o) => o.dataSync().every(Number.isFinite)));
  }
  // PLE: stem (16 filters), stage 1, stage 2 are three levels; the inner mixtures are maps.
  const model = buildModel(yaml('{type: ple}'), images);
  assert.deepEqual(model.getLayer('ple_1_task_a').outputShape, [null, 8, 8, 16]);
  assert.deepEqual(model.getLayer('ple_2_shared').outputShape, [null, 8, 8, 4]);
  assert.deepEqual(model.getLayer('ple_3_task_c').outputShape, [null, 8]);
});

test('cross-stitch is built from stock layers; a checkpoint with the old CrossStitch layer still loads', async () => {
  const model = buildModel(config('{type: cross_stitch}'), pre);
  assert.ok(!model.layers.some((l) => l.getClassName() === 'CrossStitch'));
  const x = x4();
  // The unit mixes the tasks' activations with its row: 0.9 own, 0.05 each other.
  const [a, b, c, mixedB] = outputsOf(model, ['a__dense_1_relu', 'b__dense_1_relu', 'c__dense_1_relu', 'cross_stitch_1_b'], x);
  const expected = tf.addN([tf.mul(a, 0.05), tf.mul(b, 0.9), tf.mul(c, 0.05)]);
  assert.ok(tf.max(tf.abs(tf.sub(mixedB, expected))).dataSync()[0] < 1e-6);

  // An old-style model: the custom layer, saved and loaded through mtl's checkpoint code.
  const input = tfl.input({ shape: [4] });
  const ha = tfl.layers.dense({ units: 3, name: 'a__dense_1' }).apply(input) as tfl.SymbolicTensor;
  const hb = tfl.layers.dense({ units: 3, name: 'b__dense_1' }).apply(input) as tfl.SymbolicTensor;
  const mixA = new CrossStitch({ task: 0, tasks: 2, initSelf: 0.7, name: 'cross_stitch_1_a' }).apply([ha, hb]) as tfl.SymbolicTensor;
  const mixB = new CrossStitch({ task: 1, tasks: 2, initSelf: 0.7, name: 'cross_stitch_1_b' }).apply([ha, hb]) as tfl.SymbolicTensor;
  const old = tfl.model({ inputs: input, outputs: [tfl.layers.dense({ units: 2, name: 'head_a' }).apply(mixA) as tfl.SymbolicTensor, tfl.layers.dense({ units: 1, name: 'head_b' }).apply(mixB) as tfl.SymbolicTensor] });
  const dir = path.join(tempDir(), 'old-cross-stitch');
  await saveCheckpoint(dir, old, {});
  const loaded = await loadCheckpoint(dir);
  assert.equal(loaded.model.getLayer('cross_stitch_1_b').getClassName(), 'CrossStitch');
  const before = (old.predict(x) as tf.Tensor[]).map((t) => Array.from(t.dataSync()));
  const after = (loaded.model.predict(x) as tf.Tensor[]).map((t) => Array.from(t.dataSync()));
  assert.deepEqual(after, before);
});

test('model.backbone.weights initializes every expert and leaves gates and cross-stitch units alone', async () => {
  const hard = buildModel(config('{type: hard}'), pre);
  const dir = path.join(tempDir(), 'hard');
  await saveCheckpoint(dir, hard, {});
  const want = hard.getLayer('dense_2').getWeights()[0].dataSync();
  for (const [sharing, layers] of [
    ['{type: mmoe, experts: 2}', ['expert_1__dense_2', 'expert_2__dense_2']],
    ['{type: ple}', ['shared_expert_1__dense_2', 'task_b_expert_1__dense_2']],
    ['{type: cross_stitch}', ['a__dense_2', 'c__dense_2']],
  ] as const) {
    const model = buildModel(config(sharing), pre);
    assert.match(loadBackboneWeights(model, path.join(dir, 'model.json')), /backbone initialized from/, sharing);
    for (const layer of layers) assert.deepEqual(model.getLayer(layer).getWeights()[0].dataSync(), want, `${sharing} ${layer}`);
  }
});
