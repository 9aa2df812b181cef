/**
 * Evaluation metrics on plain arrays, in the target's own units for regression.
 * Classification: accuracy, macro-F1, -precision and -recall, cross-entropy, ROC AUC
 * (binary, or macro one-vs-rest), top-k accuracy. Multilabel: micro and macro F1,
 * precision and recall, subset accuracy, macro ROC AUC, binary cross-entropy, and each
 * label's precision, recall and F1. Regression: MAE, RMSE, R² (averaged over output
 * columns when a task has several). A ratio with a zero denominator (a class never
 * predicted has no precision) counts 0, as scikit-learn's zero_division default.
 */

/** probs: n x k row-major probabilities; labels: class indices; topK: k of top_k_accuracy (NaN unless k < numClasses). */
export function classificationMetrics(probs: Float32Array, labels: Int32Array, numClasses: number, topK = 5): Record<string, number> {
  const n = labels.length;
  const tp = new Float64Array(numClasses);
  const predicted = new Float64Array(numClasses);
  const actual = new Float64Array(numClasses);
  let correct = 0;
  let inTopK = 0;
  let ce = 0;
  for (let i = 0; i < n; i++) {
    const row = i * numClasses;
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (probs[row + c] > probs[row + best]) best = c;
    const label = labels[i];
    predicted[best]++;
    actual[label]++;
    if (best === label) {
      correct++;
      tp[label]++;
    }
    // The label's rank, ties broken by class index as argmax breaks them (so top-1 is accuracy).
    const p = probs[row + label];
    let rank = 0;
    for (let c = 0; c < numClasses; c++) if (probs[row + c] > p || (probs[row + c] === p && c < label)) rank++;
    if (rank < topK) inTopK++;
    ce -= Math.log(Math.max(p, 1e-12));
  }
  // Macro averages over the classes present in the labels or the predictions (as scikit-learn does).
  let f1Sum = 0;
  let precisionSum = 0;
  let recallSum = 0;
  let classes = 0;
  for (let c = 0; c < numClasses; c++) {
    if (actual[c] === 0 && predicted[c] === 0) continue;
    classes++;
    const denom = actual[c] + predicted[c];
    f1Sum += denom === 0 ? 0 : (2 * tp[c]) / denom;
    precisionSum += predicted[c] === 0 ? 0 : tp[c] / predicted[c];
    recallSum += actual[c] === 0 ? 0 : tp[c] / actual[c];
  }
  return {
    accuracy: n ? correct / n : NaN,
    macro_f1: classes ? f1Sum / classes : NaN,
    precision: classes ? precisionSum / classes : NaN,
    recall: classes ? recallSum / classes : NaN,
    cross_entropy: n ? ce / n : NaN,
    roc_auc: classificationAuc(probs, labels, numClasses),
    top_k_accuracy: n && topK < numClasses ? inTopK / n : NaN,
  };
}

/**
 * ROC AUC of classification: for two classes the AUC of the second class's probability;
 * for more, the mean one-vs-rest AUC over the classes that have both positive and
 * negative rows here (scikit-learn's multi_class='ovr', average='macro', which refuses a
 * class without positives instead of skipping it). NaN when no class qualifies.
 */
export function classificationAuc(probs: Float32Array, labels: Int32Array, numClasses: number): number {
  const n = labels.length;
  const column = (c: number) => Float64Array.from({ length: n }, (_, i) => probs[i * numClasses + c]);
  if (numClasses === 2) return rocAuc(column(1), Array.from(labels, (l) => l === 1));
  let sum = 0;
  let count = 0;
  for (let c = 0; c < numClasses; c++) {
    const auc = rocAuc(column(c), Array.from(labels, (l) => l === c));
    if (Number.isNaN(auc)) continue;
    sum += auc;
    count++;
  }
  return count ? sum / count : NaN;
}

/**
 * Area under the ROC curve of `scores` for the rows where `positive` holds: the
 * Mann-Whitney statistic, the chance that a random positive scores above a random
 * negative, a tie counting one half (tied scores get their average rank). NaN without
 * a positive or without a negative row.
 */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && scores[order[end]] === scores[order[start]]) end++;
    // Ranks start+1 .. end share their mean.
    const rank = (start + 1 + end) / 2;
    for (let j = start; j < end; j++) {
      if (positive[order[j]]) {
        positives++;
        rankSum += rank;
      }
    }
    start = end;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface MultilabelScores {
  /** micro_f1, macro_f1, micro_precision, micro_recall, macro_precision, macro_recall, subset_accuracy, roc_auc, binary_cross_entropy. */
  metrics: Record<string, number>;
  /** Per label, in label order. */
  perLabel: { precision: number[]; recall: number[]; f1: number[] };
}

/**
 * probs: n x L probabilities; truth: n x L indicators (> 0 present); a label is
 * predicted when its probability is at least `threshold`. Micro scores pool every
 * (row, label) cell; macro scores average the labels present in the truth or the
 * predictions (as classification's macro-F1 does its classes); ROC AUC is the mean over
 * the labels with both positive and negative rows.
 */
export function multilabelMetrics(probs: Float32Array, truth: Float32Array, numLabels: number, threshold = 0.5): MultilabelScores {
  const L = numLabels;
  const n = L > 0 ? truth.length / L : 0;
  const tp = new Float64Array(L);
  const fp = new Float64Array(L);
  const fn = new Float64Array(L);
  let exact = 0;
  let bce = 0;
  for (let i = 0; i < n; i++) {
    let match = true;
    for (let j = 0; j < L; j++) {
      const p = probs[i * L + j];
      const y = truth[i * L + j] > 0;
      const yhat = p >= threshold;
      if (y && yhat) tp[j]++;
      else if (yhat) fp[j]++;
      else if (y) fn[j]++;
      if (y !== yhat) match = false;
      const clipped = Math.min(Math.max(p, 1e-12), 1 - 1e-12);
      bce -= y ? Math.log(clipped) : Math.log(1 - clipped);
    }
    if (match) exact++;
  }
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  const precision = Array.from(tp, (t, j) => ratio(t, t + fp[j]));
  const recall = Array.from(tp, (t, j) => ratio(t, t + fn[j]));
  const f1 = Array.from(tp, (t, j) => ratio(2 * t, 2 * t + fp[j] + fn[j]));
  const present = Array.from(tp, (t, j) => t + fp[j] + fn[j] > 0);
  const macro = (values: number[]) => {
    const kept = values.filter((_, j) => present[j]);
    return kept.length ? kept.reduce((a, b) => a + b, 0) / kept.length : NaN;
  };
  const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
  const [TP, FP, FN] = [sum(tp), sum(fp), sum(fn)];
  let aucSum = 0;
  let aucCount = 0;
  for (let j = 0; j < L; j++) {
    const auc = rocAuc(
      Float64Array.from({ length: n }, (_, i) => probs[i * L + j]),
      Array.from({ length: n }, (_, i) => truth[i * L + j] > 0),
    );
    if (Number.isNaN(auc)) continue;
    aucSum += auc;
    aucCount++;
  }
  return {
    metrics: {
      micro_f1: n ? ratio(2 * TP, 2 * TP + FP + FN) : NaN,
      macro_f1: macro(f1),
      micro_precision: n ? ratio(TP, TP + FP) : NaN,
      micro_recall: n ? ratio(TP, TP + FN) : NaN,
      macro_precision: macro(precision),
      macro_recall: macro(recall),
      subset_accuracy: n ? exact / n : NaN,
      roc_auc: aucCount ? aucSum / aucCount : NaN,
      binary_cross_entropy: n ? bce / (n * L) : NaN,
    },
    perLabel: { precision, recall, f1 },
  };
}

/** predictions and targets: n x k row-major, in the target's units. */
export function regressionMetrics(predictions: Float32Array, targets: Float32Array, k: number): Record<string, number> {
  const n = targets.length / k;
  let mae = 0;
  let rmse = 0;
  let r2 = 0;
  for (let j = 0; j < k; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += targets[i * k + j];
    mean /= n;
    let abs = 0;
    let sq = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const t = targets[i * k + j];
      const e = predictions[i * k + j] - t;
      abs += Math.abs(e);
      sq += e * e;
      total += (t - mean) * (t - mean);
    }
    mae += abs / n;
    rmse += Math.sqrt(sq / n);
    r2 += total > 0 ? 1 - sq / total : NaN;
  }
  return { mae: mae / k, rmse: rmse / k, r2: r2 / k };
}

/** argmax per row of an n x k matrix. */
export function argmaxRows(probs: Float32Array, k: number): Int32Array {
  const n = probs.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[i * k + c] > probs[i * k + best]) best = c;
    out[i] = best;
  }
  return out;
}
