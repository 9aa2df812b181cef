/**
 * mtl serve on a tiny penguins run: started on port 0, rows POSTed as JSON get the same
 * predictions as `mtl predict` on a file of the same rows; concurrent requests are
 * batched; a bad row is a 400 with predict's reason, malformed JSON a 400, a body over
 * the limit a 413; SIGTERM lets the request in flight finish, then the process exits 0.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { initBackend } from '../../src/backends';
import { predictCommand } from '../../src/api/predict';
import { trainCommand } from '../../src/api/train';
import { Predictor } from '../../src/serve/predictor';
import { createServer } from '../../src/serve/server';
import { silentProgress } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { repoRoot, tempDir, writeFile } from '../helpers/tmp';

const dir = tempDir();
const run = path.join(dir, 'run');
let server: Awaited<ReturnType<typeof createServer>>;
let predictor: Predictor;
const features = ['island', 'bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'sex'];
const rows = (parseCsv(readFileSync(path.join(repoRoot, 'datasets', 'penguins', 'penguins.csv'), 'utf8'), { columns: true }) as Record<string, string>[]).slice(0, 40);

/** A row as a JSON instance: numbers as JSON numbers, "NA" as null. */
function instance(row: Record<string, string>): Record<string, unknown> {
  return Object.fromEntries(features.map((f) => [f, row[f] === 'NA' ? null : /^-?[\d.]+$/.test(row[f]) ? Number(row[f]) : row[f]]));
}

async function post(body: string | object, name = 'penguins'): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/v1/models/${name}:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
  await trainCommand({ config: path.join(repoRoot, 'configs', 'penguins.yaml'), out: run, epochs: 3, set: ['model.backbone.units=[16]'] }, captureOutput(), silentProgress);
  predictor = await Predictor.load(run);
  server = await createServer(predictor, { port: 0, maxBatch: 64, maxWaitMs: 5, bodyLimit: 64 * 1024 });
});

after(async () => {
  await server.app.close();
  predictor.dispose();
});

test('POST /v1/models/NAME:predict answers the numbers mtl predict writes for the same rows', async () => {
  const csv = writeFile(dir, 'rows.csv', `${features.join(',')}\n${rows.map((r) => features.map((f) => r[f]).join(',')).join('\n')}\n`);
  const out = path.join(dir, 'preds.jsonl');
  await predictCommand({ location: run, data: csv, out }, captureOutput(), captureOutput());
  const expected = readFileSync(out, 'utf8').trim().split('\n').map((l) => {
    const { row: _row, ...prediction } = JSON.parse(l);
    return prediction;
  });
  const rowsWithNa = rows.filter((r) => features.some((f) => r[f] === 'NA')).length;
  assert.ok(rowsWithNa > 0, 'penguins has missing cells: imputed as predict imputes them');
  const { status, json } = await post({ instances: rows.map(instance) });
  assert.equal(status, 200, JSON.stringify(json));
  assert.deepEqual(json.predictions, expected);
  const first = (json.predictions as Record<string, unknown>[])[0];
  assert.ok(typeof first.species === 'string' && typeof first.body_mass === 'number');
  assert.deepEqual(Object.keys(first['species.p'] as object), ['Adelie', 'Chinstrap', 'Gentoo']);
});

test('concurrent requests are scored in shared batches and each gets its own rows back', async () => {
  const before = { ...server.batcher.stats };
  const single = await Promise.all(rows.slice(0, 24).map((r) => post({ instances: [instance(r)] })));
  const all = await post({ instances: rows.slice(0, 24).map(instance) });
  single.forEach((s, i) => {
    assert.equal(s.status, 200);
    assert.deepEqual((s.json.predictions as unknown[])[0], (all.json.predictions as unknown[])[i]);
  });
  const batches = server.batcher.stats.batches - before.batches - 1;
  assert.ok(batches < 24, `24 concurrent requests in ${batches} batches`);
});

test('a bad row is a 400 with predict\'s reason; malformed JSON 400; over the body limit 413; unknown model 404; the server keeps serving', async () => {
  const bad = await post({ instances: [instance(rows[0]), { ...instance(rows[1]), island: 'Atlantis' }] });
  assert.equal(bad.status, 400);
  assert.match(String(bad.json.error), /^instance 1: column "island" holds "Atlantis", a category never seen in training/);
  const text = await post({ instances: [{ ...instance(rows[0]), bill_length_mm: 'forty' }] });
  assert.equal(text.status, 400);
  assert.match(String(text.json.error), /instance 0: column "bill_length_mm" holds "forty", expected a number/);
  const malformed = await post('{"instances": [');
  assert.equal(malformed.status, 400);
  assert.ok(typeof malformed.json.error === 'string');
  assert.equal((await post({ rows: [] })).status, 400);
  assert.match(String((await post({ instances: [{ island: { nested: 1 } }] })).json.error), /instance 0: "island" holds an object/);
  const big = await post({ instances: Array.from({ length: 2000 }, () => instance(rows[0])) });
  assert.equal(big.status, 413);
  assert.match(String(big.json.error), /over the limit/);
  assert.equal((await post({ instances: [instance(rows[0])] }, 'other')).status, 404);
  assert.equal((await post({ instances: [instance(rows[0])] })).status, 200, 'still serving');
});

test('GET /v1/models/NAME describes inputs, tasks, classes and backend; GET /healthz', async () => {
  const res = await fetch(`${server.url}/v1/models/penguins`);
  const info = (await res.json()) as Record<string, unknown> & { tasks: Record<string, { classes?: string[] }>; inputs: { name: string }[] };
  assert.equal(res.status, 200);
  assert.equal(info.name, 'penguins');
  assert.equal(info.backend, 'wasm');
  assert.deepEqual(info.tasks.species.classes, ['Adelie', 'Chinstrap', 'Gentoo']);
  assert.deepEqual(info.inputs.map((i) => i.name), features);
  assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), { status: 'ok' });
});

test('mtl serve as a process: port 0, SIGTERM lets the request in flight finish, then exits 0', async () => {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'mtl.js'), 'serve', run, '--port', '0', '--backend', 'wasm'], { env: { ...process.env, CI: 'true' } });
  // Messages go to stderr (stdout is for data).
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stdout += d));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const until = Date.now() + 30000;
  while (!/serving penguins .* at (http:\/\/\S+):/.test(stdout)) {
    assert.ok(Date.now() < until, `no serving line: ${stdout}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const url = /at (http:\/\/[^\s:]+:\d+)/.exec(stdout)![1];
  const body = JSON.stringify({ instances: Array.from({ length: 300 }, (_, i) => instance(rows[i % rows.length])) });
  const inFlight = fetch(`${url}/v1/models/penguins:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGTERM');
  const res = await inFlight;
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { predictions: unknown[] }).predictions.length, 300);
  assert.equal(await exit, 0);
  assert.match(stdout, /SIGTERM: finishing the requests in flight/);
});
