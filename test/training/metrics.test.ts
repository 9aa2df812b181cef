import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classificationMetrics, multilabelMetrics, regressionMetrics, rocAuc } from '../../src/training/metrics';
import { resolveMode } from '../../src/training/metric-keys';
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

test('ROC AUC is the Mann-Whitney statistic: hand cases, ties counting one half', () => {
  // scikit-learn's documented example: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.75.
  assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 0.75);
  // Ties: positives {0.5, 0.8}, negatives {0.5, 0.2}: pairs won 0.5 + 1 + 1 + 1 of 4.
  assert.equal(rocAuc([0.5, 0.5, 0.2, 0.8], [true, false, false, true]), 0.875);
  // A constant score ties everything: 0.5; no negative: undefined.
  assert.equal(rocAuc([0.3, 0.3, 0.3], [true, false, true]), 0.5);
  assert.ok(Number.isNaN(rocAuc([0.1, 0.9], [true, true])));
  // Binary classification: the AUC of the second class's probability.
  const probs = new Float32Array([0.9, 0.1, 0.6, 0.4, 0.65, 0.35, 0.2, 0.8]);
  assert.equal(classificationMetrics(probs, new Int32Array([0, 0, 1, 1]), 2).roc_auc, 0.75);
  // Three classes, macro one-vs-rest: here every class's probability ranks its rows first (AUC 1 each).
  const p3 = new Float32Array([0.8, 0.1, 0.1, 0.5, 0.3, 0.2, 0.3, 0.4, 0.3, 0.1, 0.2, 0.7]);
  const y3 = new Int32Array([0, 0, 1, 2]);
  const ovr = [
    rocAuc([0.8, 0.5, 0.3, 0.1], [true, true, false, false]),
    rocAuc([0.1, 0.3, 0.4, 0.2], [false, false, true, false]),
    rocAuc([0.1, 0.2, 0.3, 0.7], [false, false, false, true]),
  ];
  assert.deepEqual(ovr, [1, 1, 1]);
  assert.equal(classificationMetrics(p3, y3, 3).roc_auc, 1);
  const p3b = new Float32Array([0.3, 0.6, 0.1, 0.5, 0.3, 0.2, 0.3, 0.4, 0.3, 0.1, 0.2, 0.7]);
  // Class 0: positives {0.3, 0.5} vs negatives {0.3, 0.1}: 0.5 + 1 + 1 + 1 = 3.5 / 4; class 1: {0.4} vs {0.6, 0.3, 0.2}: 2/3; class 2: 1.
  assert.ok(Math.abs(classificationMetrics(p3b, y3, 3).roc_auc - (0.875 + 2 / 3 + 1) / 3) < 1e-12);
});

test('macro precision and recall, and top-k accuracy, match hand-computed values', () => {
  // Same case as above: predictions 0, 1, 1, 2; labels 0, 1, 2, 2.
  const probs = new Float32Array([0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.2, 0.5, 0.3, 0.1, 0.1, 0.8]);
  const m = classificationMetrics(probs, new Int32Array([0, 1, 2, 2]), 3, 2);
  // precision: class 0 1/1, class 1 1/2, class 2 1/1; recall: 1/1, 1/1, 1/2.
  assert.ok(Math.abs(m.precision - 2.5 / 3) < 1e-12);
  assert.ok(Math.abs(m.recall - 2.5 / 3) < 1e-12);
  // top-2: row 2 has label 2 at p 0.3, second after 0.5: in; every row is in the top 2.
  assert.equal(m.top_k_accuracy, 1);
  // Four classes, k = 2: label ranks 0, 2, 1, 3 -> 2 of 4 rows in the top 2.
  const p4 = new Float32Array([0.4, 0.3, 0.2, 0.1, 0.4, 0.3, 0.2, 0.1, 0.4, 0.3, 0.2, 0.1, 0.4, 0.3, 0.2, 0.1]);
  assert.equal(classificationMetrics(p4, new Int32Array([0, 2, 1, 3]), 4, 2).top_k_accuracy, 0.5);
  // Top-1 is accuracy, ties broken as argmax breaks them (the first class wins).
  const tied = new Float32Array([0.5, 0.5, 0, 0.5, 0.5, 0]);
  const t1 = classificationMetrics(tied, new Int32Array([0, 1]), 3, 1);
  assert.equal(t1.top_k_accuracy, t1.accuracy);
  assert.equal(t1.accuracy, 0.5);
  // k not below the number of classes: undefined.
  assert.ok(Number.isNaN(classificationMetrics(probs, new Int32Array([0, 1, 2, 2]), 3, 3).top_k_accuracy));
});

test('multilabel metrics: micro and macro F1, precision, recall, subset accuracy, AUC and per-label scores by hand', () => {
  // 3 rows, 3 labels; threshold 0.5.
  const probs = new Float32Array([0.9, 0.2, 0.6, 0.4, 0.7, 0.1, 0.8, 0.3, 0.2]);
  const truth = new Float32Array([1, 0, 1, 0, 1, 1, 1, 0, 0]);
  const { metrics: m, perLabel } = multilabelMetrics(probs, truth, 3);
  // Label 0: tp 2, fp 0, fn 0; label 1: tp 1, fp 0, fn 0; label 2: tp 1, fp 0, fn 1.
  assert.deepEqual(perLabel.precision, [1, 1, 1]);
  assert.deepEqual(perLabel.recall, [1, 1, 0.5]);
  assert.ok(Math.abs(perLabel.f1[2] - 2 / 3) < 1e-12);
  assert.equal(m.micro_precision, 1);
  assert.equal(m.micro_recall, 0.8);
  assert.ok(Math.abs(m.micro_f1 - 8 / 9) < 1e-12);
  assert.ok(Math.abs(m.macro_f1 - (1 + 1 + 2 / 3) / 3) < 1e-12);
  assert.ok(Math.abs(m.macro_recall - 2.5 / 3) < 1e-12);
  assert.ok(Math.abs(m.subset_accuracy - 2 / 3) < 1e-12);
  // AUC per label: label 0 truth [1, 0, 1] scores [0.9, 0.4, 0.8]: 1; label 1 [0, 1, 0] [0.2, 0.7, 0.3]: 1; label 2 [1, 1, 0] [0.6, 0.1, 0.2]: 0.5.
  assert.ok(Math.abs(m.roc_auc - 2.5 / 3) < 1e-12);
  // Positive weights are indicators > 0 too; the all-negative predictor scores micro-F1 0.
  assert.equal(multilabelMetrics(new Float32Array(9).fill(0.1), Float32Array.from(truth, (v) => v * 3), 3).metrics.micro_f1, 0);
  // A higher threshold predicts fewer labels.
  assert.equal(multilabelMetrics(probs, truth, 3, 0.85).metrics.micro_recall, 0.2);
});

test('monitors know which way each metric improves', () => {
  for (const key of ['val/t/roc_auc', 'val/t/precision', 'val/t/recall', 'val/t/top_k_accuracy', 'val/t/micro_f1', 'val/t/subset_accuracy', 'val/t/f1.a/b', 'val/t/recall.x', 'x/macro_recall']) {
    assert.equal(resolveMode(key, 'auto'), 'max', key);
  }
  for (const key of ['val/loss', 'val/t/loss', 'val/t/cross_entropy', 'val/t/binary_cross_entropy', 'val/t/mae', 'train/t/loss']) assert.equal(resolveMode(key, 'auto'), 'min', key);
});
