/**
 * The report of one run: its curves from metrics.jsonl, and, from checkpoints/best
 * on the test split, a confusion matrix per classification task, precision, recall and
 * F1 per label of each multilabel task, and predicted-vs-true and residual charts per
 * regression task.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../backends';
import { configToYaml, loadConfig } from '../../config/load';
import type { Config } from '../../config/schema';
import { classColumn, labelledRows, selectRows } from '../../data/labels';
import { loadData } from '../../data/load';
import type { Preprocessing, Split } from '../../data/types';
import { AFFINITY_FILE, type AffinityReport } from '../../api/affinity';
import { UserError } from '../../errors';
import { argmaxRows } from '../../training/metrics';
import { destandardize, runSplit, taskMetrics } from '../../training/evaluate';
import { perLabelMetrics } from '../../training/metric-keys';
import { formatNumber } from '../../training/progress';
import { loadCheckpoint } from '../checkpoint';
import { RUN_FILES, RunDir } from '../run-dir';
import { affinityHeatmap, confusionMatrix, labelBars, lineChart, predictedVsTrue, residualHistogram } from './charts';
import { escapeHtml, htmlTable, renderPage, type ReportChart, type ReportSection } from './page';
import { renderSvg, type ChartSpec } from './render';
import { disposeModel, freezeForInference } from '../../models/inference-fold';

type Row = Record<string, number>;

interface Summary {
  seconds: number;
  epochs: number;
  stop_reason: string;
  best_epoch: number;
  samples_per_s: number;
  test: { loss: number; tasks: Record<string, { loss: number; metrics: Record<string, number> }> } | null;
}

/** mtl affinity's measurement: the heatmap and the best groupings. */
async function affinitySection(report: AffinityReport): Promise<ReportSection> {
  const heatmap = await chart('affinity', `Inter-task affinity over ${report.steps} lookahead steps (positive: a step on the row's task lowers the column's loss)`, affinityHeatmap('Inter-task affinity', report.tasks, report.affinity));
  const table = htmlTable(['groups', 'best split', 'score'], report.groupings.map((g) => [String(g.k), g.groups.map((group) => `{${group.join(', ')}}`).join(' '), formatNumber(g.score)]));
  return { title: 'Task grouping (mtl affinity)', html: table, charts: [heatmap] };
}

async function chart(id: string, title: string, spec: ChartSpec): Promise<ReportChart> {
  return { id, title, svg: await renderSvg(spec) };
}

function series(rows: Row[], key: string, name: string, dash?: string) {
  return rows.filter((r) => r[key] !== undefined).map((r) => ({ epoch: r.epoch, value: r[key], series: name, ...(dash ? { dash } : {}) }));
}

export async function buildRunReport(location: string): Promise<{ html: string; charts: number }> {
  const run = new RunDir(path.resolve(location));
  if (!run.exists(RUN_FILES.config) || !run.exists(RUN_FILES.metricsJsonl)) {
    throw new UserError(`${location}: not a run folder (no config.yaml and metrics.jsonl)`, { exitCode: 2, hint: 'pass a folder written by mtl train, or one written by mtl compare' });
  }
  const config = loadConfig(run.file(RUN_FILES.config)).config;
  const rows = readFileSync(run.file(RUN_FILES.metricsJsonl), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
  const meta = run.readJson<{ backend?: { name: string; package: string; version: string }; started_at?: string }>(RUN_FILES.meta);
  const summary = run.exists(RUN_FILES.summary) ? run.readJson<Summary>(RUN_FILES.summary) : undefined;
  const tasks = Object.keys(config.tasks);
  const sections: ReportSection[] = [];

  sections.push({ title: 'Final test metrics (checkpoints/best)', html: testTable(summary), charts: [] });

  const curves: ReportChart[] = [];
  const lossRows = tasks.flatMap((t) => [...series(rows, `train/${t}/loss`, t, 'train'), ...series(rows, `val/${t}/loss`, t, 'val')]);
  curves.push(await chart('loss', 'Loss per task: train (solid) and validation', lineChart('Loss per task', lossRows, 'loss', lossRows.every((r) => r.value > 0))));
  curves.push(await chart('total-loss', 'Total loss', lineChart('Total loss', [...series(rows, 'train/loss', 'train'), ...series(rows, 'val/loss', 'val')], 'loss')));
  for (const task of tasks) {
    for (const metric of config.tasks[task].metrics) {
      if (metric === 'per_label') {
        // One chart per per-label metric, a line per label.
        for (const name of perLabelMetrics) {
          const prefix = `val/${task}/${name}.`;
          const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k.startsWith(prefix));
          const lines = keys.flatMap((k) => series(rows, k, k.slice(prefix.length)));
          if (lines.length) curves.push(await chart(`${task}-${name}-per-label`, `val/${task}/${name}.<label>`, lineChart(`${task}: ${name} per label (validation)`, lines, name)));
        }
        continue;
      }
      const key = `val/${task}/${metric}`;
      if (rows.some((r) => r[key] !== undefined)) curves.push(await chart(`${task}-${metric}`, key, lineChart(`${task}: ${metric} (validation)`, series(rows, key, metric), metric)));
    }
  }
  curves.push(await chart('lr', 'Learning rate', lineChart('Learning rate', series(rows, 'lr', 'lr'), 'learning rate')));
  sections.push({ title: 'Training curves', charts: curves });

  const weighting: ReportChart[] = [];
  if (config.training.weighting.type !== 'fixed') {
    const weightRows = tasks.flatMap((t) => series(rows, `weight/${t}`, t));
    weighting.push(await chart('weights', `Task weights (${config.training.weighting.type})`, lineChart(`Task weights (${config.training.weighting.type})`, weightRows, 'weight')));
  }
  if (rows.some((r) => r['train/penalty'] !== undefined)) {
    weighting.push(await chart('penalty', 'Soft-sharing penalty', lineChart('Soft-sharing penalty', series(rows, 'train/penalty', 'penalty'), 'penalty')));
  }
  const cosKeys = Object.keys(rows[0] ?? {}).filter((k) => k.startsWith('grad_cos/'));
  if (cosKeys.length) {
    weighting.push(await chart('grad-cos', 'Cosine similarity of task gradients on the shared parameters', lineChart('Task gradient cosine', cosKeys.flatMap((k) => series(rows, k, k.slice('grad_cos/'.length))), 'cosine')));
    weighting.push(await chart('grad-norm', 'Task gradient norms on the shared parameters', lineChart('Task gradient norm', tasks.flatMap((t) => series(rows, `grad_norm/${t}`, t)), 'L2 norm')));
  }
  if (weighting.length) sections.push({ title: 'Task weights and gradients', charts: weighting });
  if (run.exists(AFFINITY_FILE)) sections.push(await affinitySection(JSON.parse(readFileSync(run.file(AFFINITY_FILE), 'utf8')) as AffinityReport));

  const test = await testSplitCharts(config, run);
  sections.push(test);
  sections.push({ title: 'Resolved config', html: `<pre>${escapeHtml(configToYaml(config))}</pre>`, charts: [] });

  const facts = [
    meta.backend ? `backend ${meta.backend.name} (${meta.backend.package} ${meta.backend.version})` : 'backend unknown',
    summary ? `${summary.epochs} epochs in ${summary.seconds.toFixed(1)} s (${summary.stop_reason}), best epoch ${summary.best_epoch}` : `${rows.length} epochs (unfinished)`,
    meta.started_at ? `started ${meta.started_at}` : '',
    run.path,
  ].filter(Boolean);
  const charts = sections.reduce((n, s) => n + s.charts.length, 0);
  return { html: renderPage(`mtl run: ${config.name}`, facts, sections), charts };
}

function testTable(summary: Summary | undefined): string {
  if (!summary?.test) return '<p class="note">No test metrics: the run has not finished or has no test split.</p>';
  const metricNames = [...new Set(Object.values(summary.test.tasks).flatMap((t) => Object.keys(t.metrics)))];
  return htmlTable(
    ['task', 'loss', ...metricNames],
    Object.entries(summary.test.tasks).map(([task, t]) => [task, formatNumber(t.loss), ...metricNames.map((m) => (m in t.metrics ? formatNumber(t.metrics[m]) : ''))]),
  );
}

async function testSplitCharts(config: Config, run: RunDir): Promise<ReportSection> {
  const title = 'Test split (checkpoints/best)';
  const best = run.checkpoint('best');
  if (!existsSync(path.join(best, 'model.json'))) return { title, html: '<p class="note">No checkpoints/best yet.</p>', charts: [] };
  await initBackend({ device: config.device });
  let split: Split;
  let pre: Preprocessing;
  try {
    const data = await loadData(config);
    split = data.test;
    pre = data.preprocessing;
  } catch (e) {
    return { title, html: `<p class="note">The data could not be read again (${escapeHtml((e as Error).message)}); test-split charts are left out.</p>`, charts: [] };
  }
  if (split.size === 0) return { title, html: '<p class="note">The test split is empty.</p>', charts: [] };
  const loaded = await loadCheckpoint(best);
  freezeForInference(loaded.model);
  const { outputs } = runSplit(loaded.model, split, config.tasks);
  disposeModel(loaded.model);
  const charts: ReportChart[] = [];
  for (const task of Object.keys(config.tasks)) {
    const t = pre.targets[task];
    // Only the rows that carry this task's label are charted.
    const rows = labelledRows(split.targets[task], split.size);
    const raw = selectRows(outputs[task], split.size, rows);
    const n = rows.length;
    if (t.kind === 'classification') {
      const k = t.classes.length;
      const predicted = argmaxRows(raw, k);
      const truth = classColumn(selectRows(split.targets[task] as Int32Array, split.size, rows), n);
      const counts = t.classes.map(() => new Array<number>(k).fill(0));
      truth.forEach((c, i) => counts[c][predicted[i]]++);
      charts.push(await chart(`${task}-confusion`, `${task}: confusion matrix (${n} test samples)`, confusionMatrix(`${task}: confusion matrix`, t.classes, counts)));
    } else if (t.kind === 'multilabel') {
      const scores = taskMetrics(t, raw, selectRows(split.targets[task] as Float32Array, split.size, rows), config.tasks[task]);
      const bars = t.labels.flatMap((label) => perLabelMetrics.map((metric) => ({ label, metric, value: scores[`${metric}.${label}`] })));
      charts.push(await chart(`${task}-per-label`, `${task}: precision, recall and F1 per label (${n} test samples)`, labelBars(`${task}: per label`, bars)));
    } else {
      const k = t.columns.length;
      const predicted = destandardize(raw, t.mean, t.std);
      const truth = destandardize(selectRows(split.targets[task] as Float32Array, split.size, rows), t.mean, t.std);
      for (let j = 0; j < k; j++) {
        const points = Array.from({ length: n }, (_, i) => ({ truth: truth[i * k + j], predicted: predicted[i * k + j] }));
        const name = k === 1 ? task : `${task} ${t.columns[j]}`;
        const unit = `(${t.columns[j]})`;
        charts.push(await chart(`${task}-scatter-${j}`, `${name}: predicted against true`, predictedVsTrue(`${name}: predicted vs true`, points, unit)));
        charts.push(await chart(`${task}-residuals-${j}`, `${name}: residuals`, residualHistogram(`${name}: residuals`, points.map((p) => p.predicted - p.truth), unit)));
      }
    }
  }
  return { title, charts };
}
