/** The report of an `mtl sweep` folder: the metric against each parameter, the trials' curves and the table of trials. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SweepState } from '../../sweep/sweep';
import { readHistory } from '../../executors/run-job';
import { formatNumber } from '../../training/progress';
import { lineChart } from './charts';
import { htmlTable, renderPage, type ReportChart, type ReportSection } from './page';
import { renderSvg, type ChartSpec } from './render';

const STATUS_ORDER = ['finished', 'stopped', 'paused', 'running', 'interrupted', 'pending', 'failed'];

/** The metric of each trial against one parameter: a scatter on a numeric axis (log for log-uniform draws), else a strip per value. */
export function parameterChart(title: string, metric: string, points: { value: unknown; metric: number; trial: string; status: string }[], log: boolean): ChartSpec {
  const numeric = points.every((p) => typeof p.value === 'number');
  const values = points.map((p) => ({ x: numeric ? (p.value as number) : typeof p.value === 'string' ? p.value : JSON.stringify(p.value), metric: p.metric, trial: p.trial, status: p.status }));
  return {
    title,
    width: 320,
    height: 220,
    data: { values },
    mark: { type: 'point', filled: true, size: 60, opacity: 0.8 },
    encoding: {
      x: numeric ? { field: 'x', type: 'quantitative', title: title.split(': ')[0], scale: log ? { type: 'log' } : { zero: false } } : { field: 'x', type: 'nominal', title: title.split(': ')[0], axis: { labelAngle: 0 } },
      y: { field: 'metric', type: 'quantitative', title: metric, scale: { zero: false } },
      color: { field: 'status', type: 'nominal', title: null, sort: STATUS_ORDER },
      tooltip: [{ field: 'trial' }, { field: 'metric' }],
    },
  };
}

export async function buildSweepReport(dir: string): Promise<{ html: string; charts: number }> {
  const state = JSON.parse(readFileSync(path.join(dir, 'sweep.json'), 'utf8')) as SweepState;
  const metric = state.metric.name;
  const scored = state.trials.filter((t) => t.metric !== null && Number.isFinite(t.metric));
  const byParameter: ReportChart[] = [];
  for (const p of state.parameters) {
    const points = scored.map((t) => ({ value: t.parameters[p.name], metric: t.metric!, trial: t.id, status: t.status }));
    if (points.length === 0) continue;
    const numbers = points.map((q) => q.value).filter((v): v is number => typeof v === 'number');
    const log = p.distribution === 'log_uniform_values' || p.distribution === 'log_uniform' || (numbers.length === points.length && Math.min(...numbers) > 0 && Math.max(...numbers) / Math.min(...numbers) >= 100);
    const spec = parameterChart(`${p.name}: ${metric}`, metric, points, log);
    byParameter.push({ id: `parameter-${p.name}`, title: `${metric} against ${p.name} (${p.distribution}; one point per trial)`, svg: await renderSvg(spec) });
  }
  const sections: ReportSection[] = [];
  const mode = state.metric.goal === 'maximize' ? -1 : 1;
  const ranked = [...state.trials].sort((a, b) => (a.metric === null ? 1 : b.metric === null ? -1 : mode * (a.metric - b.metric)));
  const table = htmlTable(
    ['trial', 'status', metric, 'epoch', 'epochs', 'seconds', ...state.parameters.map((p) => p.name), 'error'],
    ranked.map((t) => [t.id, t.status + (t.stopped_at ? ` at ${t.stopped_at}` : ''), t.metric === null ? '' : formatNumber(t.metric), t.metric_epoch ?? '', t.epochs ?? '', t.seconds.toFixed(1), ...state.parameters.map((p) => format(t.parameters[p.name])), t.error ?? '']),
  );
  sections.push({ title: `${metric} against each parameter`, charts: byParameter });
  if (!metric.startsWith('test/')) {
    const rows = state.trials.flatMap((t) =>
      readHistory(path.join(dir, t.run_dir))
        .filter((r) => typeof r[metric] === 'number')
        .map((r) => ({ epoch: Number(r.epoch), value: r[metric] as number, series: t.id })),
    );
    if (rows.length > 0) {
      const curves = await renderSvg(lineChart(`${metric} per epoch`, rows, metric));
      const rungs = state.early_terminate?.rungs.length ? ` (successive halving at epochs ${state.early_terminate.rungs.join(', ')})` : '';
      sections.push({ title: 'Trials over epochs', charts: [{ id: 'curves', title: `${metric} per epoch, one line per trial${rungs}`, svg: curves }] });
    }
  }
  sections.push({ title: 'Trials', html: table, charts: [] });
  const best = state.best ? `best ${state.best.trial}: ${metric} ${formatNumber(state.best.metric)} (${state.best.config})` : 'no best trial';
  const counts = STATUS_ORDER.map((s) => [s, state.trials.filter((t) => t.status === s).length] as const).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(', ');
  const html = renderPage(`mtl sweep: ${state.name}`, [`${state.method} search, ${state.trials.length} trials (${counts})`, `${metric} (${state.metric.goal})`, best, `${state.seconds.toFixed(1)} s, ${state.executor}`, state.config], sections);
  const charts = sections.reduce((n, s) => n + s.charts.length, 0);
  return { html, charts };
}

function format(v: unknown): string {
  return typeof v === 'number' ? formatNumber(v) : typeof v === 'string' ? v : JSON.stringify(v);
}
