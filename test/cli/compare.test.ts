import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { compareCommand, compareTask, sameTestRows, singleTaskConfig } from '../../src/api/compare';
import type { TrainSummary } from '../../src/api/train';
import { UserError } from '../../src/errors';
import { buildCompareReport } from '../../src/outputs/report/compare-report';
import { loadConfig } from '../../src/config/load';
import { captureOutput } from '../helpers/output';
import { loadData } from '../../src/data/load';
import { repoRoot, tempDir, writeFile } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

test('Δ has the sign of "better" for both metric directions; verdicts follow the seeds\' spread', () => {
  const acc = compareTask('accuracy', [0.8, 0.82, 0.78], [0.9, 0.91, 0.89]);
  assert.ok(Math.abs(acc.delta_pct - 12.5) < 1e-9);
  assert.equal(acc.verdict, 'helped');
  const mae = compareTask('mae', [10, 11, 9], [12, 12.5, 11.5]);
  assert.ok(Math.abs(mae.delta_pct - -20) < 1e-9, 'a larger error is worse');
  assert.equal(mae.verdict, 'negative transfer');
  assert.equal(compareTask('mae', [10, 12, 8], [10.5, 12, 9]).verdict, 'no clear difference');
  assert.ok(Math.abs(acc.stl.std - 0.02) < 1e-12, 'sample standard deviation');
});

test('a single-task config keeps the backbone and head, drops the other tasks and fixes monitors that named them', () => {
  const { config } = loadConfig(path.join(repoRoot, 'configs', 'penguins.yaml'), { set: ['training.checkpoint.monitor=val/species/accuracy', 'training.weighting.type=uncertainty'] });
  const single = singleTaskConfig(config, 'body_mass', 7, 42);
  assert.deepEqual(Object.keys(single.tasks), ['body_mass']);
  assert.deepEqual(single.model, config.model);
  assert.equal(single.seed, 7);
  assert.equal(single.data.split.seed, 42);
  assert.equal(single.training.checkpoint.monitor, 'val/loss');
  assert.equal(single.training.weighting.type, 'fixed');
  assert.equal(config.training.checkpoint.monitor, 'val/species/accuracy', 'the original is untouched');
});

test('mtl compare trains every model for every seed and writes comparison.json', async () => {
  const out = path.join(tempDir(), 'cmp');
  const output = captureOutput();
  const result = await compareCommand({ config: path.join(repoRoot, 'configs', 'penguins.yaml'), seeds: 2, epochs: 4, out }, output, false);
  const json = JSON.parse(readFileSync(path.join(out, 'comparison.json'), 'utf8'));
  assert.deepEqual(Object.keys(json.tasks), ['species', 'body_mass']);
  for (const task of ['species', 'body_mass']) {
    const t = json.tasks[task];
    for (const key of ['metric', 'stl', 'mtl', 'delta_pct', 'verdict']) assert.ok(key in t, `${task}.${key}`);
    assert.equal(t.stl.values.length, 2);
    assert.ok(Number.isFinite(t.stl.mean) && Number.isFinite(t.mtl.std));
  }
  assert.ok(Number.isFinite(json.delta_m_pct));
  assert.equal(result.runs.length, 6);
  assert.ok(existsSync(path.join(out, 'stl-species-seed42', 'summary.json')));
  assert.ok(existsSync(path.join(out, 'mtl-seed43', 'summary.json')));
  assert.match(output.text(), /\[6\/6\] multi-task seed 43/);
  assert.match(output.text(), /Δm = [+-]\d/);
});

/** 150 rows: `origin` (3 classes) always labelled, `mpg` missing in every 7th row; both follow x and y. */
function carsLikeCsv(): string {
  const lines = ['x,y,origin,mpg'];
  for (let i = 0; i < 150; i++) {
    const x = Math.sin(i * 1.7) * 2;
    const y = Math.cos(i * 0.9) * 2;
    const origin = x + y > 1 ? 'usa' : x > y ? 'japan' : 'europe';
    lines.push(`${x.toFixed(3)},${y.toFixed(3)},${origin},${i % 7 === 3 ? 'NA' : (20 + 3 * x - 2 * y).toFixed(2)}`);
  }
  return `${lines.join('\n')}\n`;
}

test('compare on a target with missing cells: each task is scored on the same test rows by both sides, recorded in comparison.json', async () => {
  const dir = tempDir();
  const data = writeFile(dir, 'cars.csv', carsLikeCsv());
  const config = writeFile(
    dir,
    'cars.yaml',
    `name: cars
data: {format: csv, path: ${data}}
model: {backbone: {type: mlp, units: [8]}}
tasks:
  origin: {type: classification, target: origin}
  mpg: {type: regression, target: mpg}
training: {epochs: 3, batch_size: 16, early_stopping: {monitor: val/loss, patience: 2}}
`,
  );
  const out = path.join(dir, 'cmp');
  const result = await compareCommand({ config, seeds: 2, out }, captureOutput(), false);
  const stlConfig = readFileSync(path.join(out, 'stl-origin-seed42', 'config.yaml'), 'utf8');
  assert.match(stlConfig, /features:\n\s+- x\n\s+- y\n/, 'the single-task origin model does not take mpg as an input');
  const json = JSON.parse(readFileSync(path.join(out, 'comparison.json'), 'utf8'));
  const rowsOf = (dirName: string, task: string) => JSON.parse(readFileSync(path.join(out, dirName, 'summary.json'), 'utf8')).test.tasks[task].n;
  // The split is cut from all 150 rows: 23 test rows, of which those with an mpg value score mpg.
  assert.equal(json.tasks.origin.test_rows.stl, 23);
  assert.equal(json.tasks.origin.test_rows.mtl, 23, 'the multi-task model keeps the rows without mpg for origin');
  assert.ok(json.tasks.mpg.test_rows.mtl < 23 && json.tasks.mpg.test_rows.mtl === json.tasks.mpg.test_rows.stl);
  assert.equal(rowsOf('stl-origin-seed42', 'origin'), rowsOf('mtl-seed43', 'origin'));
  assert.equal(rowsOf('stl-mpg-seed43', 'mpg'), rowsOf('mtl-seed42', 'mpg'));
  for (const task of ['origin', 'mpg']) {
    const own = json.tasks[task].mtl_own_best;
    assert.equal(own.values.length, 2);
    assert.ok(own.values.every(Number.isFinite), `${task}: a score at its own best epoch`);
    assert.ok(own.epochs.every((e: number) => e >= 1 && e <= 3));
    assert.equal(own.monitor, `val/${task}/loss`, 'the key its single-task model picks its checkpoint by');
  }
  assert.equal(result.tasks.origin.test_rows.stl, 23);
});

test('a row keeps its split when a task is added or removed, even when that task is missing in the row', async () => {
  const dir = tempDir();
  const data = writeFile(dir, 'cars.csv', carsLikeCsv());
  const load = async (tasks: string) => {
    const { config } = loadConfig(writeFile(dir, `t${Math.random().toString(36).slice(2)}.yaml`, `data: {format: csv, path: ${data}, features: [x, y]}\nmodel: {backbone: {type: mlp}}\ntasks:\n${tasks}`));
    return loadData(config);
  };
  const origin = '  origin: {type: classification, target: origin}\n';
  const mpg = '  mpg: {type: regression, target: mpg}\n';
  const splitOf = (d: Awaited<ReturnType<typeof load>>) => {
    const map = new Map<number, string>();
    for (const name of ['train', 'val', 'test'] as const) for (const line of d[name].rows) map.set(line, name);
    return map;
  };
  const both = splitOf(await load(origin + mpg));
  const originOnly = splitOf(await load(origin));
  const mpgOnly = splitOf(await load(mpg));
  assert.equal(both.size, 150, 'no row lacks both targets, so the multi-task model keeps every row');
  assert.deepEqual([...originOnly], [...both]);
  assert.equal(mpgOnly.size, 150 - 21, 'the single-task mpg model leaves out the rows without mpg, and only those');
  for (const [line, split] of mpgOnly) assert.equal(split, both.get(line), `line ${line} stays in ${both.get(line)}`);
});

test('compare stops when the two sides of a task were scored on different test rows', () => {
  const run = (kind: 'stl' | 'mtl', rows: number[]) => ({ kind, seed: 1, summary: { testRows: { a: rows } } as unknown as TrainSummary });
  assert.equal(sameTestRows('a', [run('stl', [2, 5, 9]), run('mtl', [2, 5, 9])]), 3);
  assert.throws(() => sameTestRows('a', [run('stl', [2, 5, 9]), run('mtl', [2, 5])]), (e: unknown) => e instanceof UserError && /task a was tested on 3 rows by the single-task model .* and on 2 other rows by the multi-task model/.test(e.message));
  assert.throws(() => sameTestRows('a', [run('stl', [2, 5, 9]), run('mtl', [2, 5, 8])]), UserError);
});

test('compare with typed inputs: every run folder holds a config that loads again (report, resume)', async () => {
  const dir = tempDir();
  const data = writeFile(dir, 'cars.csv', carsLikeCsv());
  const config = writeFile(
    dir,
    'typed.yaml',
    `data: {format: csv, path: ${data}, inputs: [{name: x, type: numeric}, {name: y, type: numeric}]}
model: {backbone: {type: mlp, units: [4]}}
tasks:
  origin: {type: classification, target: origin}
  mpg: {type: regression, target: mpg}
training: {epochs: 1}
`,
  );
  const out = path.join(dir, 'cmp');
  await compareCommand({ config, seeds: 1, out }, captureOutput(), false);
  for (const run of ['stl-origin-seed42', 'stl-mpg-seed42', 'mtl-seed42']) {
    const reloaded = loadConfig(path.join(out, run, 'config.yaml')).config;
    assert.deepEqual(reloaded.data.format === 'csv' && reloaded.data.inputs?.map((i) => i.name), ['x', 'y']);
  }
});

test('mtl compare --methods: every method against the same single-task models, with Δm, rank and time relative to fixed; the report draws them', async () => {
  const out = path.join(tempDir(), 'methods');
  const output = captureOutput();
  const result = await compareCommand({ config: path.join(repoRoot, 'configs', 'penguins.yaml'), seeds: 1, epochs: 3, out, methods: 'fixed,pcgrad,cross_stitch+mgda' }, output, false);
  assert.equal(result.runs.length, 5, 'two single-task models, three multi-task methods');
  const json = JSON.parse(readFileSync(path.join(out, 'comparison.json'), 'utf8'));
  assert.deepEqual(json.methods.map((m: { method: string }) => m.method).sort(), ['cross_stitch+mgda', 'fixed', 'pcgrad']);
  assert.deepEqual(json.methods.map((m: { rank: number }) => m.rank), [1, 2, 3], 'listed best first');
  for (let k = 1; k < json.methods.length; k++) assert.ok(json.methods[k - 1].delta_m_pct >= json.methods[k].delta_m_pct);
  const fixed = json.methods.find((m: { method: string }) => m.method === 'fixed');
  assert.equal(fixed.time_vs_fixed, 1);
  const stitched = json.methods.find((m: { method: string }) => m.method === 'cross_stitch+mgda');
  assert.equal(stitched.sharing, 'cross_stitch');
  assert.equal(stitched.weighting, 'mgda');
  for (const m of json.methods) {
    assert.ok(Number.isFinite(m.epoch_seconds) && m.epoch_seconds > 0);
    assert.deepEqual(m.tasks.species.stl.values, fixed.tasks.species.stl.values, 'one set of single-task models');
  }
  const config = JSON.parse(readFileSync(path.join(out, 'mtl-cross_stitch+mgda-seed42', 'summary.json'), 'utf8'));
  assert.ok(config.run_dir);
  assert.match(output.text(), /single-task.*\n(.*\n)*.*pcgrad/);
  const report = await buildCompareReport(out);
  assert.equal(report.charts, 3, 'one chart per task and Δm');
  assert.match(report.html, /cross_stitch\+mgda/);
});

test('mtl compare --methods names an unknown method with a suggestion, before training anything', async () => {
  await assert.rejects(
    compareCommand({ config: path.join(repoRoot, 'configs', 'penguins.yaml'), seeds: 1, epochs: 1, out: path.join(tempDir(), 'bad'), methods: 'fixed,pcgrd' }, captureOutput(), false),
    (e: unknown) => e instanceof UserError && /--methods pcgrd: unknown weighting method "pcgrd"; did you mean "pcgrad"\?/.test(e.message),
  );
});
