/** The report's charts as Vega-Lite specs: plain data in, a spec out. */
import type { ChartSpec } from './render';

const WIDTH = 360;
const HEIGHT = 220;

type Row = Record<string, string | number>;

/** Value per epoch, one line per series (e.g. task and split). */
export function lineChart(title: string, rows: { epoch: number; value: number; series: string; dash?: string }[], yTitle: string, logScale = false): ChartSpec {
  return {
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows.filter((r) => Number.isFinite(r.value)) },
    mark: { type: 'line', point: rows.length <= 60 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative', title: yTitle, scale: logScale ? { type: 'log' } : { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
      ...(rows.some((r) => r.dash) ? { strokeDash: { field: 'dash', type: 'nominal', title: null } } : {}),
    },
  };
}

/** A labels × labels grid of values, each cell colored and its value written in it. */
function squareHeatmap(
  title: string,
  labels: string[],
  axes: { x: string; y: string },
  value: (row: number, column: number) => number,
  cell: { size: number; color: object; text: object },
): ChartSpec {
  const values: Row[] = [];
  labels.forEach((y, i) => labels.forEach((x, j) => values.push({ x, y, value: value(i, j), label: Number(value(i, j).toPrecision(3)) })));
  const size = Math.max(160, Math.min(420, labels.length * cell.size));
  return {
    title,
    width: size,
    height: size,
    data: { values },
    encoding: {
      x: { field: 'x', type: 'ordinal', sort: labels, title: axes.x },
      y: { field: 'y', type: 'ordinal', sort: labels, title: axes.y },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'value', type: 'quantitative', ...cell.color } } },
      { mark: { type: 'text', fontSize: 10 }, encoding: { text: { field: 'label', type: 'quantitative' }, ...cell.text } },
    ],
  };
}

/** Counts of (true, predicted) class pairs with the count written in each cell. */
export function confusionMatrix(title: string, classes: string[], counts: number[][]): ChartSpec {
  return squareHeatmap(title, classes, { x: 'predicted', y: 'true' }, (i, j) => counts[i][j], {
    size: 36,
    color: { scale: { scheme: 'blues' }, legend: null },
    text: { color: { condition: { test: `datum.value > ${Math.max(...counts.flat()) / 2}`, value: 'white' }, value: 'black' } },
  });
}

/** Inter-task affinity Z_{a→b}: rows the task of the lookahead step, columns the task whose loss moved; diverging colors around 0. */
export function affinityHeatmap(title: string, tasks: string[], affinity: Record<string, Record<string, number>>): ChartSpec {
  const extent = Math.max(1e-12, ...tasks.flatMap((a) => tasks.map((b) => Math.abs(affinity[a][b]))));
  return squareHeatmap(title, tasks, { x: 'loss of', y: 'lookahead step on' }, (i, j) => affinity[tasks[i]][tasks[j]], {
    size: 60,
    color: { scale: { scheme: 'redblue', domain: [-extent, extent] }, title: 'affinity' },
    text: {},
  });
}

/** Predicted against true values with the y = x line. */
export function predictedVsTrue(title: string, points: { truth: number; predicted: number }[], unit: string): ChartSpec {
  const all = points.flatMap((p) => [p.truth, p.predicted]);
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  return {
    title,
    width: WIDTH - 60,
    height: WIDTH - 60,
    layer: [
      {
        data: { values: points },
        mark: { type: 'point', filled: true, opacity: 0.5, size: 18 },
        encoding: {
          x: { field: 'truth', type: 'quantitative', title: `true ${unit}`, scale: { domain: [lo, hi] } },
          y: { field: 'predicted', type: 'quantitative', title: `predicted ${unit}`, scale: { domain: [lo, hi] } },
        },
      },
      {
        data: { values: [{ truth: lo, predicted: lo }, { truth: hi, predicted: hi }] },
        mark: { type: 'line', color: 'gray', strokeDash: [4, 4] },
        encoding: { x: { field: 'truth', type: 'quantitative' }, y: { field: 'predicted', type: 'quantitative' } },
      },
    ],
  };
}

export function residualHistogram(title: string, residuals: number[], unit: string): ChartSpec {
  return {
    title,
    width: WIDTH - 60,
    height: HEIGHT,
    data: { values: residuals.map((r) => ({ residual: r })) },
    mark: 'bar',
    encoding: {
      x: { field: 'residual', type: 'quantitative', bin: { maxbins: 30 }, title: `predicted − true ${unit}` },
      y: { aggregate: 'count', type: 'quantitative', title: 'samples' },
    },
  };
}

/** One group of bars per label (a multilabel task's precision, recall and F1 on the test split). */
export function labelBars(title: string, rows: { label: string; metric: string; value: number }[]): ChartSpec {
  const labels = [...new Set(rows.map((r) => r.label))];
  return {
    title,
    width: Math.max(160, Math.min(720, labels.length * 54)),
    height: HEIGHT,
    data: { values: rows.filter((r) => Number.isFinite(r.value)) },
    mark: 'bar',
    encoding: {
      x: { field: 'label', type: 'nominal', sort: labels, title: 'label', axis: { labelAngle: labels.length > 8 ? -45 : 0 } },
      xOffset: { field: 'metric', type: 'nominal', sort: ['precision', 'recall', 'f1'] },
      y: { field: 'value', type: 'quantitative', title: null, scale: { domain: [0, 1] } },
      color: { field: 'metric', type: 'nominal', title: null, sort: ['precision', 'recall', 'f1'] },
    },
  };
}

/** Single-task against multi-task: mean bars with ±std error bars, for one task's metric. */
export function comparisonBars(title: string, metric: string, rows: { model: string; mean: number; std: number }[]): ChartSpec {
  const values = rows.map((r) => ({ ...r, lo: r.mean - r.std, hi: r.mean + r.std }));
  return {
    title,
    width: 100 * rows.length,
    height: HEIGHT,
    data: { values },
    encoding: { x: { field: 'model', type: 'nominal', title: null, sort: rows.map((r) => r.model), axis: { labelAngle: 0 } } },
    layer: [
      { mark: 'bar', encoding: { y: { field: 'mean', type: 'quantitative', title: metric }, color: { field: 'model', type: 'nominal', legend: null, sort: rows.map((r) => r.model) } } },
      { mark: { type: 'errorbar', ticks: true }, encoding: { y: { field: 'lo', type: 'quantitative', title: metric }, y2: { field: 'hi' } } },
    ],
  };
}
