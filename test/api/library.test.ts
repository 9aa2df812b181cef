/** The library API: the CLI's use cases as functions, silent by default, with typed results. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { compare, evaluate, predict, train, UserError } from '../../src';
import { repoRoot, tempDir } from '../helpers/tmp';

const penguins = path.join(repoRoot, 'configs', 'penguins.yaml');

test('train, evaluate, predict and compare as functions: the numbers agree with each other and nothing is printed', async () => {
  const dir = tempDir();
  const printed: string[] = [];
  const run = await train({ config: penguins, epochs: 3, out: path.join(dir, 'run'), backend: 'wasm' });
  assert.equal(run.epochs, 3);
  const scores = await evaluate({ location: run.run_dir, split: 'test' });
  assert.ok(Math.abs(scores.tasks.species.metrics.accuracy - run.test!.tasks.species.metrics.accuracy) < 1e-9, 'eval on the test split = the run\'s test scores');
  const predictions = await predict({ location: run.run_dir, data: path.join(repoRoot, 'datasets', 'penguins', 'penguins.csv'), output: { log: (m) => printed.push(m), data: () => undefined } });
  assert.ok(predictions.rows.length > 300);
  assert.ok(predictions.columns.includes('species'));
  const comparison = await compare({ config: penguins, seeds: 1, epochs: 2, out: path.join(dir, 'cmp'), backend: 'wasm' });
  assert.deepEqual(Object.keys(comparison.tasks), ['species', 'body_mass']);
  await assert.rejects(train({ config: path.join(dir, 'missing.yaml') }), UserError);
});
