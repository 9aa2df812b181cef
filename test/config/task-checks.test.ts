/** The tasks' cross-field rules: top-k needs more classes than k, focal options need loss: focal, multilabel needs a table. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFrom } from '../helpers/config';
import { monitorableKeys } from '../../src/training/metric-keys';

const config = (task: string, data = 'format: csv, path: x.csv', training = '') =>
  configFrom(`data: {${data}}\nmodel: {backbone: {type: mlp}}\ntasks:\n  t: ${task}\n${training}`);

test('top_k_accuracy needs more classes than top_k when num_classes is known (its own check)', () => {
  assert.throws(() => config('{type: classification, target: c, num_classes: 5, metrics: [top_k_accuracy]}'), /tasks\.t\.metrics: top_k_accuracy with top_k 5 \(the default\) needs more than 5 classes, and num_classes is 5/);
  assert.throws(() => config('{type: classification, target: c, num_classes: 4, top_k: 4, metrics: [accuracy, top_k_accuracy]}'), /tasks\.t\.top_k: top_k_accuracy with top_k 4 needs more than 4 classes/);
  assert.doesNotThrow(() => config('{type: classification, target: c, num_classes: 4, top_k: 3, metrics: [accuracy, top_k_accuracy]}'));
  assert.doesNotThrow(() => config('{type: classification, target: c, metrics: [top_k_accuracy]}'), 'without num_classes the data decides');
  assert.throws(() => config('{type: classification, target: c, top_k: 3}'), /top_k is the k of top_k_accuracy/);
});

test('focal options need loss: focal; focal_alpha needs two classes; class_weight takes balanced or a map', () => {
  assert.throws(() => config('{type: classification, target: c, focal_gamma: 1}'), /tasks\.t\.focal_gamma: focal_gamma applies to loss: focal/);
  assert.throws(() => config('{type: multilabel, target: c, focal_alpha: 0.25}'), /focal_alpha applies to loss: focal, and the loss is binary_crossentropy/);
  assert.throws(() => config('{type: classification, target: c, loss: focal, focal_alpha: 0.25, num_classes: 3}'), /focal_alpha weighs the two classes/);
  assert.throws(() => config('{type: classification, target: c, class_weight: balance}'), /class_weight: expected balanced, got "balance"/);
  const ok = config('{type: classification, target: c, loss: focal, focal_gamma: 1, focal_alpha: 0.25, class_weight: {a: 2}}');
  const t = ok.tasks.t;
  assert.ok(t.type === 'classification' && t.loss === 'focal' && t.focal_gamma === 1 && typeof t.class_weight === 'object');
});

test('multilabel: defaults, a table format, no repeated label, pos_weight keys among listed labels, per_label not first', () => {
  const t = config('{type: multilabel, target: tags}').tasks.t;
  assert.ok(t.type === 'multilabel');
  assert.equal(t.delimiter, '|');
  assert.equal(t.threshold, 0.5);
  assert.equal(t.loss, 'binary_crossentropy');
  assert.equal(t.empty_cell, 'missing');
  assert.deepEqual(t.metrics, ['micro_f1', 'macro_f1', 'micro_precision', 'micro_recall', 'subset_accuracy', 'roc_auc', 'per_label']);
  assert.throws(() => config('{type: multilabel, target: tags}', 'format: idx, images: x.idx, targets: {tags: y.idx}'), /a multilabel task reads a set-valued column of a table/);
  assert.throws(() => config('{type: multilabel, target: tags, labels: [a, b, a]}'), /label "a" is listed twice/);
  assert.throws(() => config('{type: multilabel, target: tags, labels: [a, b], pos_weight: {c: 2}}'), /pos_weight names label "c"/);
  assert.throws(() => config('{type: multilabel, target: tags, metrics: [per_label, micro_f1]}'), /list per_label after another metric/);
  assert.throws(() => config('{type: multilabel, target: tags, threshold: 1}'), /threshold: expected a number < 1/);
});

test('per-label metric keys: listed when the labels are, and monitorable either way', () => {
  const listed = config('{type: multilabel, target: tags, labels: [a, b]}');
  const keys = monitorableKeys(listed);
  for (const key of ['val/t/micro_f1', 'val/t/precision.a', 'val/t/recall.b', 'val/t/f1.b']) assert.ok(keys.includes(key), key);
  assert.ok(!keys.includes('val/t/per_label'));
  assert.doesNotThrow(() => config('{type: multilabel, target: tags}', undefined, 'training: {checkpoint: {monitor: val/t/f1.cat}}'));
  assert.throws(() => config('{type: multilabel, target: tags, labels: [a]}', undefined, 'training: {checkpoint: {monitor: val/t/f1.cat}}'), /unknown metric "val\/t\/f1\.cat"/);
  assert.throws(() => config('{type: multilabel, target: tags}', undefined, 'training: {checkpoint: {monitor: val/t/f2.cat}}'), /unknown metric/);
});
