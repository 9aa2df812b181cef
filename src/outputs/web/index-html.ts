/**
 * index.html of `mtl export`: a page that imports predict.js, scores a few rows of the
 * run's test data (embedded) and shows inputs and predictions in a table. When it is done
 * it sets `data-state` on <body> to `done` (or `error`), which the export test waits for.
 */

/** JSON inside <script>: `<` escaped, so no cell can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value, null, 1).replace(/</g, '\\u003c');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export function indexHtml(name: string, inputs: string[], examples: Record<string, unknown>[], source: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>${escapeHtml(name)}: predictions in the browser</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
  table { border-collapse: collapse; margin-top: 1em; }
  th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
  th { background: #f3f3f3; }
  th.prediction { background: #e8f0fb; }
  td.error { color: #a00; }
  code { background: #f3f3f3; padding: 0 0.2em; }
</style>
</head>
<body data-state="loading">
<h1>${escapeHtml(name)}</h1>
<p>Predictions of <code>predict.js</code> (TensorFlow.js, in this page) for ${examples.length} rows ${escapeHtml(source)}.
In your own page: <code>import { predict } from './predict.js'; const results = await predict(rows);</code></p>
<p id="status">loading the model…</p>
<table id="predictions"><thead></thead><tbody></tbody></table>
<script type="application/json" id="examples">${scriptJson(examples)}</script>
<script type="application/json" id="inputs">${scriptJson(inputs)}</script>
<script type="module">
import { predict } from './predict.js';

const rows = JSON.parse(document.getElementById('examples').textContent);
const inputs = JSON.parse(document.getElementById('inputs').textContent);
const status = document.getElementById('status');

/** A result as flat cells: "<task>.p" objects become "<task>.p.<class>" columns, label sets are joined. */
function cells(result) {
  const out = {};
  for (const [key, value] of Object.entries(result)) {
    if (Array.isArray(value)) out[key] = value.join(', ');
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out[key + '.' + k] = v;
    else out[key] = value;
  }
  return out;
}

function cell(tag, text, className) {
  const element = document.createElement(tag);
  element.textContent = text === undefined || text === null ? '' : String(text);
  if (className) element.className = className;
  return element;
}

try {
  const started = performance.now();
  const results = (await predict(rows)).map(cells);
  const columns = [...new Set(results.flatMap((r) => Object.keys(r).filter((k) => k !== 'error')))];
  const head = document.createElement('tr');
  for (const c of inputs) head.append(cell('th', c));
  for (const c of columns) head.append(cell('th', c, 'prediction'));
  const withErrors = results.some((r) => r.error);
  if (withErrors) head.append(cell('th', 'error', 'prediction'));
  document.querySelector('#predictions thead').append(head);
  results.forEach((result, i) => {
    const tr = document.createElement('tr');
    for (const c of inputs) tr.append(cell('td', rows[i][c]));
    for (const c of columns) tr.append(cell('td', result[c]));
    if (withErrors) tr.append(cell('td', result.error, 'error'));
    document.querySelector('#predictions tbody').append(tr);
  });
  status.textContent = rows.length + ' rows scored in ' + Math.round(performance.now() - started) + ' ms (loading included).';
  document.body.dataset.state = 'done';
} catch (e) {
  status.textContent = 'error: ' + (e && e.message ? e.message : String(e));
  document.body.dataset.state = 'error';
  throw e;
}
</script>
</body>
</html>
`;
}
