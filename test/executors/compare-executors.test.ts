/**
 * mtl compare on the executors: --parallel 2 (local worker processes) and --queue (BullMQ,
 * skipped without redis-server) give the comparison the default (this process, one run
 * after another) gives: the same per-seed test metrics, Δ, verdicts and test rows.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { compareCommand, type Comparison } from '../../src/api/compare';
import { captureOutput } from '../helpers/output';
import { skipWithoutRedis, startRedis, type Redis } from '../helpers/redis';
import { repoRoot, tempDir } from '../helpers/tmp';

const config = path.join(repoRoot, 'configs', 'penguins.yaml');
const args = { config, seeds: 2, epochs: 3, set: ['model.backbone.units=[16]'] };
let redis: Redis | undefined;
let worker: ChildProcess | undefined;
let reference: Comparison;

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
  reference = await compareCommand({ ...args, out: path.join(tempDir(), 'in-process') }, captureOutput(), false);
});

after(async () => {
  worker?.kill('SIGKILL');
  await redis?.stop();
});

/** What must not depend on where the runs trained (time per epoch may). */
function results(c: Comparison) {
  return { tasks: c.tasks, delta: c.delta_m_pct, runs: c.runs.map((r) => [r.kind, r.task, r.seed, path.basename(r.run_dir)]) };
}

test('compare --parallel 2 gives the comparison of one process', async () => {
  const output = captureOutput();
  const c = await compareCommand({ ...args, parallel: '2', out: path.join(tempDir(), 'parallel') }, output, false);
  assert.match(output.text(), /runs on 2 local worker processes/);
  assert.deepEqual(results(c), results(reference));
  assert.match(output.text(), /\[6\/6\] multi-task seed 43/);
});

test('compare --queue gives the comparison of one process', { skip: skipWithoutRedis }, async () => {
  redis = await startRedis();
  worker = spawn(process.execPath, [path.join(repoRoot, 'bin', 'mtl.js'), 'worker', '--queue', redis.url, '--parallel', '2', '--backend', 'wasm'], { env: { ...process.env, CI: 'true' }, stdio: 'ignore' });
  const output = captureOutput();
  const c = await compareCommand({ ...args, queue: redis.url, out: path.join(tempDir(), 'queued') }, output, false);
  assert.match(output.text(), /runs on the BullMQ queue mtl-trials/);
  assert.deepEqual(results(c), results(reference));
});
