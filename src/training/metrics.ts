/**
 * Evaluation metrics on plain arrays, in the target's own units for regression.
 * Classification: accuracy, macro-F1, cross-entropy. Regression: MAE, RMSE, R²
 * (averaged over output columns when a task has several).
 */

/** probs: n x k row-major probabilities; labels: class indices. */
export function classificationMetrics(probs: Float32Array, labels: Int32Array, numClasses: number): Record<string, number> {
  const n = labels.length;
  const tp = new Float64Array(numClasses);
  const predicted = new Float64Array(numClasses);
  const actual = new Float64Array(numClasses);
  let correct = 0;
  let ce = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (probs[i * numClasses + c] > probs[i * numClasses + best]) best = c;
    const label = labels[i];
    predicted[best]++;
    actual[label]++;
    if (best === label) {
      correct++;
      tp[label]++;
    }
    ce -= Math.log(Math.max(probs[i * numClasses + label], 1e-12));
  }
  // Macro-F1 over the classes present in the labels or the predictions (as scikit-learn does).
  let f1Sum = 0;
  let classes = 0;
  for (let c = 0; c < numClasses; c++) {
    if (actual[c] === 0 && predicted[c] === 0) continue;
    classes++;
    const denom = actual[c] + predicted[c];
    f1Sum += denom === 0 ? 0 : (2 * tp[c]) / denom;
  }
  return {
    accuracy: n ? correct / n : NaN,
    macro_f1: classes ? f1Sum / classes : NaN,
    cross_entropy: n ? ce / n : NaN,
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
