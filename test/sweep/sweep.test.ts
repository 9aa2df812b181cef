/**
 * mtl sweep on penguins, tiny: grid and random searches write one run folder per trial,
 * sweep.json / sweep.csv / best.yaml; an interrupted sweep resumes keeping its finished
 * trials; successive halving stops the weak trials at the rungs; two local worker
 * processes give the same results as one in-process run after another.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { parse as parseYaml } from 'yaml';
import { initBackend } from '../../src/backends';
import { reportCommand } from '../../src/api/report';
import { ConfigError } from '../../src/errors';
import { hyperbandRungs, keepCount, planTrials } from '../../src/sweep/plan';
import { parseSweep, readSweepFile } from '../../src/sweep/spec';
import { sweepCommand, trialConfig, type SweepState } from '../../src/sweep/sweep';
import { configToYaml, loadConfig } from '../../src/config/load';
import { captureOutput } from '../helpers/output';
import { checkpointWeights, maxAbsDiff } from '../helpers/run';
import { repoRoot, tempDir, writeFile } from '../helpers/tmp';

const penguins = path.join(repoRoot, 'configs', 'penguins.yaml');
const tiny = ['model.backbone.units=[8]', 'training.early_stopping.patience=1000'];

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

const gridSpec = `method: grid
metric: {name: val/loss, goal: minimize}
parameters:
  training.optimizer.learning_rate: {values: [0.001, 0.02]}
  model.backbone.units: {values: [[8], [16, 8]]}
`;

function readState(dir: string): SweepState {
  return JSON.parse(readFileSync(path.join(dir, 'sweep.json'), 'utf8')) as SweepState;
}

test('the grid is the cartesian product in file order, run_cap cuts it; random draws are seeded and within their bounds', () => {
  const { spec } = parseSweep('grid.yaml', gridSpec);
  assert.deepEqual(planTrials(spec, 1), [
    { 'training.optimizer.learning_rate': 0.001, 'model.backbone.units': [8] },
    { 'training.optimizer.learning_rate': 0.001, 'model.backbone.units': [16, 8] },
    { 'training.optimizer.learning_rate': 0.02, 'model.backbone.units': [8] },
    { 'training.optimizer.learning_rate': 0.02, 'model.backbone.units': [16, 8] },
  ]);
  assert.equal(planTrials(parseSweep('g.yaml', `${gridSpec}run_cap: 3\n`).spec, 1).length, 3);
  const random = parseSweep(
    'random.yaml',
    `method: random
run_cap: 200
parameters:
  lr: {min: 0.0001, max: 0.1, distribution: log_uniform_values}
  drop: {min: 0.1, max: 0.3}
  layers: {min: 1, max: 3}
  act: {values: [relu, tanh]}
  epochs: {value: 3}
`,
  ).spec;
  assert.deepEqual(random.parameters.map((p) => p.distribution), ['log_uniform_values', 'uniform', 'int_uniform', 'categorical', 'constant']);
  const a = planTrials(random, 7);
  assert.deepEqual(a, planTrials(random, 7), 'same seed, same trials');
  assert.notDeepEqual(a, planTrials(random, 8));
  for (const t of a) {
    assert.ok((t.lr as number) >= 0.0001 && (t.lr as number) <= 0.1);
    assert.ok((t.drop as number) >= 0.1 && (t.drop as number) <= 0.3);
    assert.ok([1, 2, 3].includes(t.layers as number));
    assert.ok(['relu', 'tanh'].includes(t.act as string));
    assert.equal(t.epochs, 3);
  }
  // log-uniform: as many draws below the geometric middle (0.00316) as above it.
  const below = a.filter((t) => (t.lr as number) < Math.sqrt(0.0001 * 0.1)).length;
  assert.ok(below > 70 && below < 130, `${below} of 200 below the geometric middle`);
  assert.deepEqual(new Set(a.map((t) => t.layers)), new Set([1, 2, 3]));
});

test('hyperband rungs as W&B spells them: min_iter·eta^k below the epochs, or max_iter/eta^k for s brackets', () => {
  assert.deepEqual(hyperbandRungs({ type: 'hyperband', min_iter: 3, eta: 3, strict: false }, 60), [3, 9, 27]);
  assert.deepEqual(hyperbandRungs({ type: 'hyperband', min_iter: 2, eta: 2, s: 2, strict: false }, 60), [2, 4]);
  assert.deepEqual(hyperbandRungs({ type: 'hyperband', max_iter: 27, s: 2, eta: 3, strict: false }, 60), [3, 9]);
  assert.equal(keepCount(8, 3), 3);
  assert.equal(keepCount(2, 3), 1);
});

test('bad sweep files are config errors naming the file, line and key', () => {
  const bad = (text: string, pattern: RegExp) => assert.throws(() => parseSweep('s.yaml', text), (e: unknown) => e instanceof ConfigError && pattern.test(e.message), text);
  bad('method: grid\nparameters:\n  a: {min: 0, max: 1, distribution: uniform}\n', /s\.yaml:3 parameters\.a: a grid search needs values/);
  bad('method: random\nparameters:\n  a: {values: [1]}\n', /run_cap: missing: a random search needs run_cap/);
  bad('method: bayes\nparameters:\n  a: {values: [1]}\n', /s\.yaml:1 method: expected grid \| random, got "bayes" \(mtl has no Bayesian search\)/);
  bad('method: grid\nparameters:\n  a: {values: [1], distribtion: categorical}\n', /unknown key "distribtion"; did you mean "distribution"\?/);
  bad('method: random\nrun_cap: 2\nparameters:\n  a: {min: 1, max: 0.5, distribution: uniform}\n', /min 1 is above max 0.5/);
  bad('method: random\nrun_cap: 2\nparameters:\n  a: {min: 0, max: 1, distribution: log_uniform_values}\n', /parameters\.a\.min: expected a number > 0 for log_uniform_values/);
  bad('method: grid\nparameters:\n  a: {values: [1]}\nearly_terminate: {type: hyperband}\n', /hyperband needs min_iter/);
  bad('method: grid\nparameters:\n  a: {values: [1]}\nearly_terminate: {type: hyperband, min_iter: 2, eta: 1}\n', /early_terminate\.eta: expected a number > 1/);
  // W&B's nested form is read as config paths.
  const nested = parseSweep('n.yaml', 'method: grid\nparameters:\n  training:\n    parameters:\n      epochs: {values: [2, 3]}\n').spec;
  assert.deepEqual(nested.parameters.map((p) => p.name), ['training.epochs']);
});

test('the shipped sweep file (configs/sweeps/penguins.yaml) plans trials that are all valid penguins configs', () => {
  const { spec } = readSweepFile(path.join(repoRoot, 'configs', 'sweeps', 'penguins.yaml'));
  const base = { baseYaml: configToYaml(loadConfig(penguins).config), configFile: penguins };
  const trials = planTrials(spec, spec.seed!);
  assert.equal(trials.length, 8);
  for (const t of trials) {
    const config = trialConfig(base, t);
    assert.equal(config.training.optimizer.learning_rate, t['training.optimizer.learning_rate']);
    assert.equal(config.training.batch_size, t['training.batch_size']);
  }
});

test('a grid sweep on penguins: a run folder per trial, sweep.json, sweep.csv and best.yaml agree; mtl report draws the metric against each parameter', async () => {
  const dir = tempDir();
  const sweepFile = writeFile(dir, 'grid.yaml', gridSpec);
  const out = path.join(dir, 'sweep');
  const output = captureOutput();
  const state = await sweepCommand({ config: penguins, sweep: sweepFile, out, epochs: 2, set: ['training.early_stopping.patience=1000'], parallel: '1' }, output);
  assert.equal(state.status, 'finished');
  assert.equal(state.trials.length, 4);
  const saved = readState(out);
  assert.deepEqual(saved.trials.map((t) => t.status), ['finished', 'finished', 'finished', 'finished']);
  for (const t of saved.trials) {
    const run = path.join(out, t.run_dir);
    const config = parseYaml(readFileSync(path.join(run, 'config.yaml'), 'utf8'));
    assert.equal(config.training.optimizer.learning_rate, t.parameters['training.optimizer.learning_rate']);
    assert.deepEqual(config.model.backbone.units, t.parameters['model.backbone.units']);
    const summary = JSON.parse(readFileSync(path.join(run, 'summary.json'), 'utf8'));
    assert.equal(t.metric, summary.monitor.value, 'val/loss is the checkpoint monitor: the metric is its best value');
    assert.equal(t.epochs, 2);
  }
  const csv = parseCsv(readFileSync(path.join(out, 'sweep.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
  assert.deepEqual(Object.keys(csv[0]), ['trial', 'status', 'val/loss', 'metric_epoch', 'epochs', 'seconds', 'training.optimizer.learning_rate', 'model.backbone.units', 'stopped_at', 'error', 'run_dir']);
  assert.deepEqual(csv.map((r) => r['model.backbone.units']), ['[8]', '[16,8]', '[8]', '[16,8]']);
  csv.forEach((r, i) => assert.equal(Number(r['val/loss']), saved.trials[i].metric));
  const best = [...saved.trials].sort((a, b) => a.metric! - b.metric!)[0];
  assert.equal(saved.best!.trial, best.id);
  assert.equal(readFileSync(path.join(out, 'best.yaml'), 'utf8'), readFileSync(path.join(out, best.run_dir, 'config.yaml'), 'utf8'));
  assert.match(output.text(), new RegExp(`best: ${best.id} val/loss`));
  const { file, charts } = await reportCommand({ location: out }, captureOutput());
  const html = readFileSync(file, 'utf8');
  assert.equal(charts, 3, 'one chart per parameter and the curves');
  assert.match(html, /val\/loss against training\.optimizer\.learning_rate/);
  assert.ok((html.match(/<svg/g) ?? []).length >= 3);
});

test('a random sweep with a test metric to maximize; a value the config rejects is one failed trial with its error', async () => {
  const dir = tempDir();
  const sweepFile = writeFile(
    dir,
    'random.yaml',
    `method: random
metric: {name: test/species/accuracy, goal: maximize}
seed: 3
run_cap: 3
parameters:
  training.optimizer.learning_rate: {min: 0.001, max: 0.05, distribution: log_uniform_values}
  model.backbone.dropout: {values: [0.1, 1.5]}
`,
  );
  const out = path.join(dir, 'sweep');
  const state = await sweepCommand({ config: penguins, sweep: sweepFile, out, epochs: 2, set: tiny, parallel: '1' }, captureOutput());
  const failed = state.trials.filter((t) => t.status === 'failed');
  const finished = state.trials.filter((t) => t.status === 'finished');
  assert.equal(failed.length + finished.length, 3);
  for (const t of failed) {
    assert.equal(t.parameters['model.backbone.dropout'], 1.5);
    assert.match(t.error!, /model\.backbone\.dropout/);
  }
  for (const t of finished) {
    const summary = JSON.parse(readFileSync(path.join(out, t.run_dir, 'summary.json'), 'utf8'));
    assert.equal(t.metric, summary.test.tasks.species.metrics.accuracy);
  }
  assert.ok(finished.length >= 1, 'seed 3 draws at least one valid dropout');
  // The same seed draws the same trials.
  const again = await sweepCommand({ config: penguins, sweep: sweepFile, out: path.join(dir, 'again'), epochs: 2, set: tiny, parallel: '1' }, captureOutput());
  assert.deepEqual(again.trials.map((t) => [t.parameters, t.status, t.metric]), state.trials.map((t) => [t.parameters, t.status, t.metric]));
});

test('an interrupted sweep resumes: finished trials are kept untouched, the rest continue, and the results equal a sweep run straight through', async () => {
  const dir = tempDir();
  const sweepFile = writeFile(dir, 'grid.yaml', gridSpec);
  const args = { config: penguins, sweep: sweepFile, epochs: 3, set: ['training.early_stopping.patience=1000'], parallel: '1' };
  const straight = await sweepCommand({ ...args, out: path.join(dir, 'straight') }, captureOutput());

  const out = path.join(dir, 'interrupted');
  const controller = new AbortController();
  const output = captureOutput();
  const log = output.log;
  output.log = (m: string) => {
    log(m);
    if (/^\[2\/4\] trial-002 finished/.test(m)) controller.abort();
  };
  await assert.rejects(sweepCommand({ ...args, out, signal: controller.signal }, output), (e: Error) => /sweep interrupted: 2 of 4 trials done/.test(e.message));
  const stopped = readState(out);
  assert.equal(stopped.status, 'interrupted');
  assert.deepEqual(stopped.trials.slice(0, 2).map((t) => t.status), ['finished', 'finished']);
  assert.ok(stopped.trials.slice(2).every((t) => t.status !== 'finished'));
  const kept = stopped.trials.slice(0, 2).map((t) => statSync(path.join(out, t.run_dir, 'summary.json')).mtimeMs);

  const resumed = await sweepCommand({ resume: out, parallel: '1' }, captureOutput());
  assert.equal(resumed.status, 'finished');
  assert.deepEqual(
    stopped.trials.slice(0, 2).map((t) => statSync(path.join(out, t.run_dir, 'summary.json')).mtimeMs),
    kept,
    'finished trials were not trained again',
  );
  assert.deepEqual(resumed.trials.map((t) => [t.id, t.status, t.metric, t.epochs]), straight.trials.map((t) => [t.id, t.status, t.metric, t.epochs]));
  assert.equal(resumed.best!.trial, straight.best!.trial);
  assert.equal(readState(out).id, stopped.id, 'the same sweep');
  await assert.rejects(sweepCommand({ ...args, out }, captureOutput()), /already holds a sweep/);
});

test('successive halving (hyperband) stops the weak trials at each rung and lets the best go on; the same with two worker processes', async () => {
  const dir = tempDir();
  const sweepFile = writeFile(
    dir,
    'hb.yaml',
    `method: grid
metric: {name: val/loss, goal: minimize}
parameters:
  training.optimizer.learning_rate: {values: [0.0001, 0.0003, 0.003, 0.02]}
early_terminate: {type: hyperband, min_iter: 2, eta: 2}
`,
  );
  const args = { config: penguins, sweep: sweepFile, epochs: 6, set: tiny };
  const one = await sweepCommand({ ...args, out: path.join(dir, 'one'), parallel: '1' }, captureOutput());
  assert.deepEqual(one.early_terminate!.rungs, [2, 4]);
  const status = one.trials.map((t) => t.status);
  assert.deepEqual(status.filter((s) => s === 'stopped').length, 3, status.join(' '));
  assert.deepEqual(status.filter((s) => s === 'finished').length, 1);
  const byRung2 = [...one.trials].sort((a, b) => a.rungs[0].metric! - b.rungs[0].metric!);
  // Epoch 2: the best half goes on; epoch 4: the better of those two.
  for (const t of byRung2.slice(2)) {
    assert.equal(t.status, 'stopped');
    assert.equal(t.stopped_at, 2);
    assert.equal(t.epochs, 2, 'trained no further than the rung');
    assert.equal(t.rungs.length, 1);
  }
  const [a, b] = byRung2.slice(0, 2);
  assert.equal(a.rungs[1].epoch, 4);
  const winner = a.rungs[1].metric! <= b.rungs[1].metric! ? a : b;
  const loser = winner === a ? b : a;
  assert.equal(winner.status, 'finished');
  assert.equal(winner.epochs, 6);
  assert.equal(loser.stopped_at, 4);
  assert.equal(one.best!.trial, winner.id);
  // The rung metric is the best value so far, read from the run's own metrics.
  const rows = readFileSync(path.join(dir, 'one', loser.run_dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, 4);
  assert.equal(loser.rungs[1].metric, Math.min(...rows.map((r) => r['val/loss'])));
  // A stopped-then-resumed survivor ends as if it had trained straight: resume is exact.
  const meta = JSON.parse(readFileSync(path.join(dir, 'one', winner.run_dir, 'meta.json'), 'utf8'));
  assert.equal(meta.resumes.length, 2);

  const two = await sweepCommand({ ...args, out: path.join(dir, 'two'), parallel: '2' }, captureOutput());
  assert.match(two.executor, /2 local worker processes/);
  assert.deepEqual(two.trials.map((t) => [t.status, t.metric, t.epochs, t.rungs]), one.trials.map((t) => [t.status, t.metric, t.epochs, t.rungs]));
  for (const t of one.trials) {
    const d = maxAbsDiff(checkpointWeights(path.join(dir, 'one', t.run_dir), 'last'), checkpointWeights(path.join(dir, 'two', t.run_dir), 'last'));
    assert.equal(d, 0, `${t.id}: the same weights in a worker process`);
  }
  assert.ok(existsSync(path.join(dir, 'two', 'best.yaml')));
});
