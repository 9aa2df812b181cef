/**
 * mtl export: a penguins run and a text run (transformer and cnn text encoders, an
 * embedded category, a number, a multilabel task) are exported; the folder is served over
 * a local HTTP server and opened in headless Chromium (Debian's /usr/bin/chromium; the
 * browser part is skipped where it is absent). index.html must score its example rows,
 * and predict.js's predict(rows) must give, for every row, the keys and values of the
 * line mtl predict --out preds.jsonl writes for the same rows (classes and errors
 * exactly, probabilities within 1e-5, regression within 1e-4 relative), for rows as
 * strings (a CSV's) and as typed JSON values, bad rows included. Also: a damaged weights
 * file is exit 1 naming it, an image run is refused with exit 2, --checkpoint last.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { initBackend } from '../../src/backends';
import { exportCommand } from '../../src/api/export';
import { addPredictions, predictCommand } from '../../src/api/predict';
import { trainCommand } from '../../src/api/train';
import { UserError } from '../../src/errors';
import { loadCheckpoint } from '../../src/outputs/checkpoint';
import { ModuleWriter } from '../../src/outputs/web/module-source';
import { writeShapesDataset } from '../../src/data/synthetic';
import { Rng } from '../../src/data/rng';
import { silentProgress } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { repoRoot, tempDir, writeFile } from '../helpers/tmp';

const chromium = '/usr/bin/chromium';
const noBrowser = existsSync(chromium) ? false : `${chromium} not found: apt-get install chromium to run the browser check`;
const dir = tempDir();
const penguinsRun = path.join(dir, 'penguins');
const textRun = path.join(dir, 'text');
const bin = path.join(repoRoot, 'bin', 'mtl.js');

type Row = Record<string, unknown>;

/** 200 JSONL rows: "alpha"/"beta" in the text give the kind, the count of "up" the level, "red"/"big" in the note the tags. */
function textCorpus(): string {
  const rng = new Rng(11);
  const filler = ['the', 'of', 'and', 'a', 'to', 'in', 'is', 'it'];
  const colors = ['red', 'green', 'blue'];
  const lines: string[] = [];
  for (let i = 0; i < 200; i++) {
    const kind = rng.int(2) ? 'alpha' : 'beta';
    const level = rng.int(4);
    const words = [...Array.from({ length: 5 }, () => filler[rng.int(filler.length)]), kind, ...Array(level).fill('up')];
    rng.shuffle(words);
    const tags = ['red', 'big'].filter(() => rng.int(2) === 1);
    const note = i % 7 === 3 ? null : [...tags, filler[rng.int(filler.length)]].join(' ');
    lines.push(JSON.stringify({ text: words.join(' '), note, color: colors[rng.int(3)], size: Math.round(rng.uniform(0, 10) * 100) / 100, kind, level, tags }));
  }
  return writeFile(dir, 'corpus.jsonl', lines.join('\n') + '\n');
}

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
  await trainCommand({ config: path.join(repoRoot, 'configs', 'penguins.yaml'), out: penguinsRun, epochs: 4 }, captureOutput(), silentProgress);
  const corpus = textCorpus();
  const config = writeFile(
    dir,
    'text.yaml',
    `name: tiny-text
data:
  format: jsonl
  path: ${corpus}
  inputs:
    - {name: text, type: text, encoder: transformer, embedding_dim: 8, heads: 2, layers: 1, max_length: 10, min_count: 1}
    - {name: note, type: text, encoder: cnn, embedding_dim: 4, max_length: 4, min_count: 1}
    - {name: color, type: category, encoder: embedding, dim: 2}
    - {name: size, type: numeric}
model: {backbone: {type: mlp, units: [16]}}
tasks:
  kind: {type: classification, target: kind}
  level: {type: regression, target: level}
  tags: {type: multilabel, target: tags, labels: [red, big], empty_cell: no_labels}
training: {epochs: 3, batch_size: 32, optimizer: {type: adam, learning_rate: 0.01}}
`,
  );
  await trainCommand({ config, out: textRun, threads: 1 }, captureOutput(), silentProgress);
});

/** A static file server for a folder, on a free port. */
async function serve(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json' };
  const server = http.createServer((req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname));
    if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory()) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-type', types[path.extname(file)] ?? 'application/octet-stream');
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

type Browser = Awaited<ReturnType<Awaited<typeof import('playwright-core')>['chromium']['launch']>>;
let browser: Browser | undefined;

async function openPage(url: string): Promise<{ page: Awaited<ReturnType<Browser['newPage']>>; errors: string[] }> {
  if (!browser) {
    const { chromium: browserType } = await import('playwright-core');
    browser = await browserType.launch({ executablePath: chromium, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  }
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(`document.body.dataset.state !== 'loading'`, null, { timeout: 60_000 });
  return { page, errors };
}

after(async () => {
  await browser?.close();
});

/** predict.js's predict(rows) in the page of an exported folder. */
async function browserPredict(exported: string, rows: Row[]): Promise<{ results: Row[]; indexRows: number; state: string; errors: string[] }> {
  const server = await serve(exported);
  try {
    const { page, errors } = await openPage(`${server.url}index.html`);
    const state = (await page.evaluate('document.body.dataset.state')) as string;
    const indexRows = (await page.evaluate(`document.querySelectorAll('#predictions tbody tr').length`)) as number;
    const results = (await page.evaluate(`import('./predict.js').then((m) => m.predict(${JSON.stringify(rows)}))`)) as Row[];
    await page.close();
    return { results, indexRows, state, errors };
  } finally {
    await server.close();
  }
}

/** mtl predict --out preds.jsonl on a file, without `row`. */
async function nodePredict(location: string, data: string): Promise<Row[]> {
  const out = `${data}.preds.jsonl`;
  await predictCommand({ location, data, out }, captureOutput(), captureOutput());
  return readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { row: _row, ...rest } = JSON.parse(l) as Row;
      return rest;
    });
}

interface Agreement {
  rows: number;
  errors: number;
  keys: string[];
  maxProbabilityDiff: number;
  maxRegressionRelDiff: number;
}

/** Asserts that every row has the same keys and values; returns the largest differences. */
function assertSame(got: Row[], want: Row[], what: string): Agreement {
  assert.equal(got.length, want.length, `${what}: one result per row`);
  const agreement: Agreement = { rows: got.length, errors: 0, keys: [], maxProbabilityDiff: 0, maxRegressionRelDiff: 0 };
  const keys = new Set<string>();
  const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-12, Math.abs(b));
  want.forEach((w, i) => {
    const g = got[i];
    const at = `${what}, row ${i}`;
    assert.deepEqual(Object.keys(g).sort(), Object.keys(w).sort(), `${at}: keys`);
    if (w.error !== undefined) agreement.errors++;
    for (const [key, value] of Object.entries(w)) {
      keys.add(key);
      const mine = g[key];
      if (typeof value === 'number') {
        assert.equal(typeof mine, 'number', `${at}: ${key}`);
        const d = relative(mine as number, value);
        agreement.maxRegressionRelDiff = Math.max(agreement.maxRegressionRelDiff, d);
        assert.ok(d <= 1e-4, `${at}: ${key} ${mine} vs ${value}`);
      } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const probabilities = key.endsWith('.p');
        assert.deepEqual(Object.keys(mine as object).sort(), Object.keys(value).sort(), `${at}: ${key} keys`);
        for (const [k, v] of Object.entries(value as Record<string, number>)) {
          const m = (mine as Record<string, number>)[k];
          if (probabilities) {
            const d = Math.abs(m - v);
            agreement.maxProbabilityDiff = Math.max(agreement.maxProbabilityDiff, d);
            assert.ok(d <= 1e-5, `${at}: ${key}.${k} ${m} vs ${v}`);
          } else {
            const d = relative(m, v);
            agreement.maxRegressionRelDiff = Math.max(agreement.maxRegressionRelDiff, d);
            assert.ok(d <= 1e-4, `${at}: ${key}.${k} ${m} vs ${v}`);
          }
        }
      } else {
        assert.deepEqual(mine, value, `${at}: ${key}`);
      }
    }
  });
  agreement.keys = [...keys].sort();
  return agreement;
}

const penguinsExport = path.join(dir, 'penguins-web');

test('export writes model.json + weights stock tfjs reads, preprocessing.json, predict.js, the tfjs bundles and index.html with test rows', async () => {
  const result = await exportCommand({ location: penguinsRun, out: penguinsExport }, captureOutput());
  assert.equal(result.checkpoint, path.join(penguinsRun, 'checkpoints', 'best'));
  for (const f of ['model.json', 'weights.bin', 'preprocessing.json', 'predict.js', 'index.html', 'tf-core.min.js', 'tf-backend-cpu.min.js', 'tf-layers.min.js']) {
    assert.ok(existsSync(path.join(penguinsExport, f)), f);
  }
  assert.equal(result.examples, 5);
  const html = readFileSync(path.join(penguinsExport, 'index.html'), 'utf8');
  assert.match(html, /from the run's test split \(penguins\.csv, lines \d+/);
  assert.doesNotMatch(html + readFileSync(path.join(penguinsExport, 'predict.js'), 'utf8'), /https?:\/\/(?!localhost)/, 'nothing from the network');
  // The exported model.json is a checkpoint whose weights check out (mtl's SHA-256) and build the same model.
  const { model } = await loadCheckpoint(penguinsExport);
  assert.deepEqual(model.outputNames.length, 2);
  model.dispose();
  const web = JSON.parse(readFileSync(path.join(penguinsExport, 'preprocessing.json'), 'utf8'));
  assert.deepEqual(web.outputs, ['species', 'body_mass']);
  assert.deepEqual(
    web.inputs.map((i: { name: string }) => i.name),
    ['island', 'bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'sex'],
  );
});

test('--checkpoint last exports checkpoints/last; --checkpoint beside a checkpoint folder is a usage error', async () => {
  const result = await exportCommand({ location: penguinsRun, out: path.join(dir, 'penguins-last'), checkpoint: 'last' }, captureOutput());
  assert.equal(result.checkpoint, path.join(penguinsRun, 'checkpoints', 'last'));
  await assert.rejects(
    exportCommand({ location: path.join(penguinsRun, 'checkpoints', 'best'), out: path.join(dir, 'x'), checkpoint: 'last' }, captureOutput()),
    (e: unknown) => e instanceof UserError && e.exitCode === 2 && /is a checkpoint folder/.test(e.message),
  );
});

const header = 'species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year';
const badPenguins = [
  ',Atlantis,40,18,190,,male,2008',
  ',Dream,forty,18,190,,male,2008',
  ',Biscoe,46.1,13.2,211,,,2007',
  ',Biscoe, 46.10 ,13.2,211,,NA,2007',
  ',Torgersen,NA,NA,NA,,NA,2009',
  ',Dream,1e31,18,190,,male,2008',
];

test('in Chromium, predict.js gives what mtl predict gives for every penguin (cells as the CSV has them, and typed), bad rows included', { skip: noBrowser }, async () => {
  const csvText = readFileSync(path.join(repoRoot, 'datasets', 'penguins', 'penguins.csv'), 'utf8').trimEnd() + '\n' + badPenguins.join('\n') + '\n';
  assert.ok(csvText.startsWith(header));
  const csvFile = writeFile(dir, 'all-penguins.csv', csvText);
  const rows = parse(csvText, { columns: true }) as Record<string, string>[];

  const stringsRun = await browserPredict(penguinsExport, rows);
  assert.equal(stringsRun.state, 'done', stringsRun.errors.join('\n'));
  assert.equal(stringsRun.indexRows, 5, 'index.html shows its 5 example rows');
  assert.deepEqual(stringsRun.errors, [], 'no console errors');
  const strings = assertSame(stringsRun.results, await nodePredict(penguinsRun, csvFile), 'penguins, CSV strings');

  // Typed: numbers as JSON numbers, NA as null, in a JSONL file for mtl predict.
  const numeric = new Set(['bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'year']);
  const typed = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === 'NA' || v === '' ? null : numeric.has(k) && Number.isFinite(Number(v)) ? Number(v) : v])));
  const jsonlFile = writeFile(dir, 'all-penguins.jsonl', typed.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const typedRun = await browserPredict(penguinsExport, typed);
  const numbers = assertSame(typedRun.results, await nodePredict(penguinsRun, jsonlFile), 'penguins, typed JSON');

  for (const a of [strings, numbers]) assert.ok(a.errors >= 3, 'the bad rows are kept with their reason');
  const bad = stringsRun.results.slice(-badPenguins.length);
  assert.match(String(bad[0].error), /column "island" holds "Atlantis", a category never seen in training/);
  assert.match(String(bad[1].error), /column "bill_length_mm" holds "forty", expected a number/);
  assert.equal(typeof bad[2].species, 'string', 'a missing sex is imputed (data.missing: impute)');
  console.log(`penguins: ${strings.rows} rows (${strings.errors} errors) as strings and ${numbers.rows} typed; keys ${strings.keys.join(', ')}; max |Δp| ${Math.max(strings.maxProbabilityDiff, numbers.maxProbabilityDiff).toExponential(2)}, max relative Δ body_mass ${Math.max(strings.maxRegressionRelDiff, numbers.maxRegressionRelDiff).toExponential(2)}`);
});

test('in Chromium, a text run (transformer and cnn encoders, embedded category, multilabel) predicts as mtl predict does', { skip: noBrowser }, async () => {
  const exported = path.join(dir, 'text-web');
  const result = await exportCommand({ location: textRun, out: exported }, captureOutput());
  assert.equal(result.examples, 5);
  const corpus = readFileSync(path.join(dir, 'corpus.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row);
  const extra: Row[] = [
    { text: 'alpha up up up and more words than max length allows here', note: 'red big', color: 'red', size: 3 },
    { text: '', note: '', color: 'green', size: '4.5' },
    { text: 'Beta UNSEEN words', color: 'blue', size: 1 },
    { text: 'alpha', note: null, color: 'purple', size: 2 },
    { text: 'beta', note: 'big', color: 'red', size: null },
    { text: 'beta', note: 'big', color: 'red', size: 'NA' },
    { text: 'beta', note: 'big', color: 'red', size: 'large' },
    { text: 42, note: true, color: ' red ', size: 7 },
  ];
  const rows = [...corpus, ...extra];
  const data = writeFile(dir, 'text-rows.jsonl', rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const run = await browserPredict(exported, rows);
  assert.equal(run.state, 'done', run.errors.join('\n'));
  assert.equal(run.indexRows, 5);
  assert.deepEqual(run.errors, []);
  const agreement = assertSame(run.results, await nodePredict(textRun, data), 'text run');
  const tail = run.results.slice(-extra.length);
  assert.match(String(tail[3].error), /column "color" holds "purple", a category never seen in training/);
  assert.match(String(tail[4].error), /column "size" is missing/, 'data.missing: drop (the default)');
  assert.match(String(tail[6].error), /column "size" holds "large", expected a number/);
  assert.ok(Array.isArray(tail[0].tags), 'a multilabel task gives its label set');
  console.log(`text run: ${agreement.rows} rows (${agreement.errors} errors); keys ${agreement.keys.join(', ')}; max |Δp| ${agreement.maxProbabilityDiff.toExponential(2)}, max relative Δ level ${agreement.maxRegressionRelDiff.toExponential(2)}`);
});

test('a damaged weights file: mtl export exits 1 naming it, and writes nothing', () => {
  const copy = path.join(dir, 'damaged');
  cpSync(penguinsRun, copy, { recursive: true });
  const best = path.join(copy, 'checkpoints', 'best');
  const weights = readdirSync(best).find((f) => f.startsWith('weights-'))!;
  const bytes = readFileSync(path.join(best, weights));
  bytes[17] ^= 0x55;
  writeFileSync(path.join(best, weights), bytes);
  const out = path.join(dir, 'damaged-web');
  const r = spawnSync(process.execPath, [bin, 'export', copy, '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`error: .*${weights} is damaged: its SHA-256 does not match`));
  assert.match(r.stderr, /hint: .*checkpoints\/last/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  assert.ok(!existsSync(out), 'no folder is written');
});

test('an image run is refused with exit 2: predict.js does not decode images', async () => {
  const files = writeShapesDataset(path.join(dir, 'shapes'), { n: 40, size: 8, seed: 3 });
  const config = writeFile(dir, 'shapes.yaml', `data: {format: idx, images: ${files.images}, targets: {label: ${files.labels}}}
model: {backbone: {type: resnet, filters: [4], blocks: [1]}}
tasks:
  shape: {type: classification, target: label}
training: {epochs: 1}`);
  const run = path.join(dir, 'shapes-run');
  await trainCommand({ config, out: run }, captureOutput(), silentProgress);
  await assert.rejects(
    exportCommand({ location: run, out: path.join(dir, 'shapes-web') }, captureOutput()),
    (e: unknown) => e instanceof UserError && e.exitCode === 2 && /predict\.js does not decode images/.test(e.message) && /mtl serve/.test(e.hint ?? ''),
  );
});

test('the web module refuses to be written when a shared function needs a name it does not define', () => {
  const module = new ModuleWriter().share('addPredictions', addPredictions as unknown as (...args: never[]) => unknown);
  assert.throws(() => module.toString(), /the web module lacks sigmoid \(used by addPredictions\), softmaxRows \(used by addPredictions\), destandardize/);
});
