/**
 * eval --data and predict on a file larger than the run's data.memory_budget read it a
 * block of rows at a time: the same output as reading it whole, and (in a child process,
 * so its RSS is its own) a peak RSS near the budget rather than the file's.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { evalCommand } from '../../src/api/eval';
import { predictCommand } from '../../src/api/predict';
import { trainCommand } from '../../src/api/train';
import { Rng } from '../../src/data/rng';
import { silentProgress } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { repoRoot, tempDir } from '../helpers/tmp';

const dir = tempDir();
const penguinRows = readFileSync(path.join(repoRoot, 'datasets', 'penguins', 'penguins.csv'), 'utf8').trim().split('\n');
let run = '';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
  run = path.join(dir, 'penguins');
  // A 16 KB budget: penguins itself is loaded whole (streaming: false), files for eval and predict larger than it are read block by block.
  await trainCommand({ config: path.join(repoRoot, 'configs', 'penguins.yaml'), out: run, epochs: 2, set: ['data.memory_budget=16KB', 'data.streaming=false'] }, captureOutput(), silentProgress);
});

/** penguins.csv `copies` times over, with `edit` applied to each data row (its index in the new file). */
function penguinsFile(name: string, copies: number, edit: (cells: string[], i: number) => string[] = (c) => c): string {
  const [header, ...rows] = penguinRows;
  const out = [header];
  for (let c = 0; c < copies; c++) for (const row of rows) out.push(edit(row.split(','), out.length - 1).join(','));
  const file = path.join(dir, name);
  writeFileSync(file, out.join('\n') + '\n');
  return file;
}

test('predict on a file larger than the budget: block by block, the same rows as reading it whole (CSV, JSONL, stdout), unscorable rows kept', async () => {
  // Unknown islands and non-numbers in a few rows: unscorable, kept with their reason.
  const file = penguinsFile('many.csv', 8, (cells, i) => (i % 397 === 5 ? [cells[0], 'Atlantis', ...cells.slice(2)] : i % 501 === 7 ? [...cells.slice(0, 2), 'forty', ...cells.slice(3)] : cells));
  const outputs: Record<string, string> = {};
  for (const streaming of [undefined, false] as const) {
    for (const ext of ['csv', 'jsonl']) {
      const out = path.join(dir, `preds-${streaming ?? 'auto'}.${ext}`);
      const log = captureOutput();
      const warnings = captureOutput();
      const result = await predictCommand({ location: run, data: file, out, streaming }, log, warnings);
      assert.equal(result.streamed, streaming === undefined);
      if (streaming === undefined) {
        assert.match(log.text(), /many\.csv holds .* more than data\.memory_budget \(16\.0 KB\): reading it block by block/);
        assert.equal(result.rows.length, 0, 'streamed rows are written, not kept');
      }
      assert.equal(result.counts.rows, (penguinRows.length - 1) * 8);
      assert.ok(result.counts.unscorable >= 10, JSON.stringify(result.counts));
      assert.match(warnings.text(), new RegExp(`${result.counts.unscorable} rows could not be scored[\\s\\S]*Atlantis`));
      outputs[`${streaming ?? 'auto'}.${ext}`] = readFileSync(out, 'utf8');
    }
  }
  assert.equal(outputs['auto.csv'], outputs['false.csv']);
  assert.equal(outputs['auto.jsonl'], outputs['false.jsonl']);
  const lines = outputs['auto.jsonl'].trim().split('\n');
  assert.deepEqual(
    lines.map((l) => JSON.parse(l).row),
    lines.map((_, i) => i + 2),
    'every row once, in order',
  );
  // Without --out, the CSV goes to stdout a block at a time: the same text.
  const stdout = captureOutput();
  await predictCommand({ location: run, data: file }, stdout, captureOutput());
  assert.equal(stdout.lines.filter((l) => !l.startsWith('data: ')).join('\n') + '\n', outputs['auto.csv']);
});

test('eval --data on a file larger than the budget: the samples, loss, metrics and notes of reading it whole', async () => {
  // Every 7th row without either target: dropped, as reading the file whole drops it, with one note.
  const file = penguinsFile('eval.csv', 4, (cells, i) => (i % 7 === 3 ? ['', ...cells.slice(1, 5), 'NA', ...cells.slice(6)] : cells));
  const streamedLog = captureOutput();
  const streamed = await evalCommand({ location: run, data: file }, streamedLog);
  const wholeLog = captureOutput();
  const whole = await evalCommand({ location: run, data: file, streaming: false }, wholeLog);
  assert.match(streamedLog.text(), /eval\.csv holds .* more than data\.memory_budget .*: reading it block by block/);
  assert.equal(streamed.samples, whole.samples);
  assert.ok(Math.abs(streamed.loss - whole.loss) <= 1e-5 * Math.abs(whole.loss), `${streamed.loss} vs ${whole.loss}`);
  for (const [task, t] of Object.entries(whole.tasks)) {
    for (const [name, value] of Object.entries(t.metrics)) assert.ok(Math.abs(streamed.tasks[task].metrics[name] - value) <= 1e-5 * Math.max(1, Math.abs(value)), `${task}.${name}`);
  }
  const notes = (log: ReturnType<typeof captureOutput>) => log.lines.filter((l) => /dropped|have no value/.test(l));
  assert.equal(notes(wholeLog).length, 1, wholeLog.text());
  assert.deepEqual(notes(streamedLog), notes(wholeLog), 'one note for the whole file, as read whole');
});

test('predict on a table many times the budget keeps its RSS near the budget', { timeout: 300000 }, async (t) => {
  const columns = 32;
  const rng = new Rng(5);
  const table = (rows: number, name: string) => {
    const lines = [[...Array.from({ length: columns }, (_, i) => `x${i}`), 'kind'].join(',')];
    for (let r = 0; r < rows; r++) {
      const x = Array.from({ length: columns }, () => rng.normal());
      lines.push(`${x.map((v) => v.toFixed(4)).join(',')},${x[0] + x[1] > 0 ? 'a' : 'b'}`);
    }
    const file = path.join(dir, name);
    writeFileSync(file, lines.join('\n') + '\n');
    return file;
  };
  const budget = 2 ** 20;
  const config = path.join(dir, 'wide.yaml');
  writeFileSync(config, `data: {format: csv, path: ${table(2000, 'small.csv')}, memory_budget: ${budget}}\nmodel: {backbone: {type: mlp, units: [16]}}\ntasks:\n  kind: {type: classification, target: kind}\ntraining: {epochs: 1, batch_size: 256, diagnostics: {enabled: false}}\n`);
  const wide = path.join(dir, 'wide');
  await trainCommand({ config, out: wide }, captureOutput(), silentProgress);
  const rows = 60000;
  const big = table(rows, 'big.csv');
  const [head, ...body] = readFileSync(big, 'utf8').trimEnd().split('\n');
  const bigger = path.join(dir, 'bigger.csv');
  writeFileSync(bigger, [head, ...body, ...body, ...body].join('\n') + '\n');
  const predict = (streaming: boolean | undefined, data = big) => {
    const script = `
      const root = ${JSON.stringify(path.join(repoRoot, 'dist', 'src'))};
      const { predictCommand } = require(root + '/api/predict');
      const { initBackend } = require(root + '/backends');
      let before = 0;
      const lines = [];
      // The engine first: what is measured is what predicting the file adds.
      initBackend({ device: 'cpu', backend: 'wasm' }).then(() => (before = process.memoryUsage().rss)).then(() => predictCommand({ location: ${JSON.stringify(wide)}, data: ${JSON.stringify(data)}, out: ${JSON.stringify(path.join(dir, 'big-'))} + Math.random() + '.jsonl', backend: 'wasm', device: 'cpu', streaming: ${streaming} }, { log: (m) => lines.push(m) }, { log: () => undefined }))
        .then((r) => console.log(JSON.stringify({ before, peak: process.resourceUsage().maxRSS * 1024, rows: r.counts.rows, lines: lines.join('\\n') })), (e) => { console.error(e); process.exit(1); });`;
    // A small young generation, and streamed a small old one: the RSS then follows what is kept, not how much garbage V8 lets pile up before collecting it.
    const heap = streaming === false ? [] : ['--max-old-space-size=32'];
    const child = spawnSync(process.execPath, ['--max-semi-space-size=1', ...heap, '-e', script], { encoding: 'utf8', env: { ...process.env, CI: 'true' }, timeout: 300000 });
    assert.equal(child.status, 0, child.stderr);
    return JSON.parse(child.stdout.trim().split('\n').pop()!) as { before: number; peak: number; rows: number; lines: string };
  };
  const streamed = predict(undefined);
  const thrice = predict(undefined, bigger);
  const whole = predict(false);
  assert.match(streamed.lines, /reading it block by block/);
  assert.equal(streamed.rows, rows);
  assert.equal(thrice.rows, 3 * rows);
  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  const added = (r: typeof streamed) => r.peak - r.before;
  const figures = `streamed: +${mb(added(streamed))} MB, a file three times as large +${mb(added(thrice))} MB; whole: +${mb(added(whole))} MB (budget ${mb(budget)} MB, file ${mb(readFileSync(big).length)} MB)`;
  t.diagnostic(figures);
  // What streaming adds does not grow with the file (the budget, and a constant: compiled code, the model's first run); the whole file's does.
  assert.ok(Math.abs(added(thrice) - added(streamed)) < 6 * 2 ** 20, figures);
  assert.ok(added(streamed) < budget + 24 * 2 ** 20 && added(streamed) < added(whole) / 2, figures);
});
