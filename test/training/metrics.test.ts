import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classificationMetrics, regressionMetrics } from '../../src/training/metrics';
import { destandardize, softmaxRows } from '../../src/training/evaluate';
import { formatNumber } from '../../src/training/progress';

test('accuracy, macro-F1 and cross-entropy match hand-computed values', () => {
  // 4 samples, 3 classes; predictions argmax: 0, 1, 1, 2; labels: 0, 1, 2, 2.
  const probs = new Float32Array([0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.2, 0.5, 0.3, 0.1, 0.1, 0.8]);
  const labels = new Int32Array([0, 1, 2, 2]);
  const m = classificationMetrics(probs, labels, 3);
  assert.equal(m.accuracy, 0.75);
  // F1: class0 = 1, class1 = 2*1/(1+2) = 2/3, class2 = 2*1/(2+1) = 2/3
  assert.ok(Math.abs(m.macro_f1 - (1 + 2 / 3 + 2 / 3) / 3) < 1e-12);
  const ce = -(Math.log(0.7) + Math.log(0.8) + Math.log(0.3) + Math.log(0.8)) / 4;
  assert.ok(Math.abs(m.cross_entropy - ce) < 1e-6);
});

test('MAE, RMSE and R² match hand-computed values, averaged over columns', () => {
  const targets = new Float32Array([1, 2, 3, 4]);
  const preds = new Float32Array([1.5, 2, 2, 4]);
  const m = regressionMetrics(preds, targets, 1);
  assert.ok(Math.abs(m.mae - 1.5 / 4) < 1e-7);
  assert.ok(Math.abs(m.rmse - Math.sqrt(1.25 / 4)) < 1e-7);
  assert.ok(Math.abs(m.r2 - (1 - 1.25 / 5)) < 1e-7);
  // Two columns: the second predicted perfectly.
  const two = regressionMetrics(new Float32Array([1.5, 10, 2, 20, 2, 30, 4, 40]), new Float32Array([1, 10, 2, 20, 3, 30, 4, 40]), 2);
  assert.ok(Math.abs(two.mae - 1.5 / 8) < 1e-7);
  assert.ok(Math.abs(two.r2 - (1 - 1.25 / 5 + 1) / 2) < 1e-7);
});

test('a perfect predictor scores 1, a constant mean predictor R² 0', () => {
  const t = new Float32Array([3, 5, 7]);
  assert.equal(regressionMetrics(t, t, 1).r2, 1);
  assert.ok(Math.abs(regressionMetrics(new Float32Array([5, 5, 5]), t, 1).r2) < 1e-12);
});

test('softmax rows sum to one and destandardize restores units', () => {
  const p = softmaxRows(new Float32Array([1, 2, 3, 1000, 0, 0]), 3);
  assert.ok(Math.abs(p[0] + p[1] + p[2] - 1) < 1e-6);
  assert.ok(Math.abs(p[3] - 1) < 1e-6, 'large logits do not overflow');
  assert.deepEqual(Array.from(destandardize(new Float32Array([0, 1, -1, 2]), [10, 0], [2, 5])), [10, 5, 8, 10]);
});

test('numbers print with 4 significant digits and no trailing zeros, integers intact', () => {
  assert.equal(formatNumber(4800), '4800');
  assert.equal(formatNumber(0.5), '0.5');
  assert.equal(formatNumber(0.12345), '0.1235');
  assert.equal(formatNumber(123456), '1.235e+5');
  assert.equal(formatNumber(0), '0');
});
