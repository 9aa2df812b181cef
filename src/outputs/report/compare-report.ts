/** The report of an `mtl compare` folder: single-task against multi-task per task, with Δm. */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { Comparison, MethodComparison } from '../../api/compare';
import { formatNumber } from '../../training/progress';
import { comparisonBars } from './charts';
import { htmlTable, renderPage, type ReportChart } from './page';
import { renderSvg } from './render';

export async function buildCompareReport(dir: string): Promise<{ html: string; charts: number }> {
  const comparison = JSON.parse(readFileSync(path.join(dir, 'comparison.json'), 'utf8')) as Comparison;
  if (comparison.methods) return buildMethodsReport(comparison, comparison.methods);
  const charts: ReportChart[] = [];
  for (const [task, t] of Object.entries(comparison.tasks)) {
    const spec = comparisonBars(`${task}: ${t.metric}`, t.metric, [
      { model: 'single-task', mean: t.stl.mean, std: t.stl.std },
      { model: 'multi-task', mean: t.mtl.mean, std: t.mtl.std },
      // Comparisons written before test_rows and mtl_own_best existed lack them.
      ...(t.mtl_own_best ? [{ model: 'multi-task, own best epoch', mean: t.mtl_own_best.mean, std: t.mtl_own_best.std }] : []),
    ]);
    charts.push({ id: `${task}-compare`, title: `${task}: test ${t.metric}, mean ± std over ${t.stl.values.length} seeds (${t.higher_is_better ? 'higher' : 'lower'} is better)`, svg: await renderSvg(spec) });
  }
  const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}%`;
  const table = htmlTable(
    ['task', 'metric', 'test rows', 'single-task', 'multi-task', 'Δ', 'verdict', 'multi-task, own best epoch'],
    Object.entries(comparison.tasks).map(([task, t]) => [
      task,
      t.metric,
      t.test_rows ? String(t.test_rows.stl) : '',
      `${formatNumber(t.stl.mean)} ± ${formatNumber(t.stl.std)}`,
      `${formatNumber(t.mtl.mean)} ± ${formatNumber(t.mtl.std)}`,
      signed(t.delta_pct),
      t.verdict,
      t.mtl_own_best ? `${formatNumber(t.mtl_own_best.mean)} ± ${formatNumber(t.mtl_own_best.std)}` : '',
    ]),
  );
  const html = renderPage(
    'mtl compare: does multi-task learning help?',
    [`Δm ${signed(comparison.delta_m_pct)} (positive: multi-task is better)`, `seeds ${comparison.seeds.join(', ')}`, `${comparison.runs.length} runs in ${comparison.seconds.toFixed(1)} s`, comparison.config],
    [{ title: 'Single-task against multi-task', html: table, charts }],
  );
  return { html, charts: charts.length };
}

/** `mtl compare --methods`: each task's metric per method beside the single-task models, Δm and time per method. */
async function buildMethodsReport(comparison: Comparison, methods: MethodComparison[]): Promise<{ html: string; charts: number }> {
  const tasks = Object.keys(methods[0].tasks);
  const charts: ReportChart[] = [];
  for (const task of tasks) {
    const t = methods[0].tasks[task];
    const spec = comparisonBars(`${task}: ${t.metric}`, t.metric, [
      { model: 'single-task', mean: t.stl.mean, std: t.stl.std },
      ...methods.map((m) => ({ model: m.method, mean: m.tasks[task].mtl.mean, std: m.tasks[task].mtl.std })),
    ]);
    charts.push({ id: `${task}-methods`, title: `${task}: test ${t.metric}, mean ± std over ${t.stl.values.length} seeds (${t.higher_is_better ? 'higher' : 'lower'} is better)`, svg: await renderSvg(spec) });
  }
  const deltas = comparisonBars('Δm (%)', 'Δm %', methods.map((m) => ({ model: m.method, mean: m.delta_m_pct, std: 0 })));
  charts.push({ id: 'delta-m', title: 'Δm: mean change over tasks against single-task models (positive: better)', svg: await renderSvg(deltas) });
  const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}%`;
  const pm = (s: { mean: number; std: number }) => `${formatNumber(s.mean)} ± ${formatNumber(s.std)}`;
  const table = htmlTable(
    ['method', ...tasks.map((t) => `${t} ${methods[0].tasks[t].metric}`), 'Δm', 'rank', 'time / epoch vs fixed'],
    [
      ['single-task', ...tasks.map((t) => pm(methods[0].tasks[t].stl)), '', '', ''],
      ...methods.map((m) => [m.method, ...tasks.map((t) => `${pm(m.tasks[t].mtl)} (${m.tasks[t].verdict})`), signed(m.delta_m_pct), String(m.rank), `${m.time_vs_fixed.toFixed(2)}x`]),
    ],
  );
  const html = renderPage(
    'mtl compare: multi-task methods against single-task models',
    [`${methods.length} methods`, `seeds ${comparison.seeds.join(', ')}`, `${comparison.runs.length} runs in ${comparison.seconds.toFixed(1)} s`, comparison.config],
    [{ title: 'Methods', html: table, charts }],
  );
  return { html, charts: charts.length };
}
