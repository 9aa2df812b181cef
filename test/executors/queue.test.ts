/**
 * The BullMQ executor against a real redis-server on a free localhost port: two
 * `mtl worker` processes take a sweep's trials; one is killed with SIGKILL mid-trial and
 * its trial continues in the other from checkpoints/last, ending exactly as a sweep run
 * in one process; a Redis restart mid-sweep is survived; every trial is recorded once; an
 * unreachable Redis is an error within seconds. Skipped where redis-server is missing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { UserError } from '../../src/errors';
import { connectRedis, parseQueueUrl } from '../../src/executors/queue';
import { sweepCommand, type SweepState } from '../../src/sweep/sweep';
import { captureOutput } from '../helpers/output';
import { freePort, skipWithoutRedis, startRedis, type Redis } from '../helpers/redis';
import { repoRoot, tempDir, writeFile } from '../helpers/tmp';

const bin = path.join(repoRoot, 'bin', 'mtl.js');
const penguins = path.join(repoRoot, 'configs', 'penguins.yaml');
let redis: Redis | undefined;
const workers: ChildProcess[] = [];

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
  if (!skipWithoutRedis) redis = await startRedis();
});

after(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await redis?.stop();
});

function startWorker(url: string): { child: ChildProcess; log: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [bin, 'worker', '--queue', url, '--parallel', '1', '--backend', 'wasm'], { env: { ...process.env, CI: 'true', MTL_QUEUE_LOCK_MS: '2000' } });
  workers.push(child);
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, log: () => log, exit };
}

async function waitFor(check: () => boolean, what: string, ms = 60000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function epochsIn(runDir: string): number[] {
  const file = path.join(runDir, 'metrics.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).epoch);
}

const spec = `method: grid
metric: {name: val/loss, goal: minimize}
parameters:
  training.optimizer.learning_rate: {values: [0.001, 0.003, 0.01, 0.03]}
`;
// Slow enough to be killed mid-trial: 30 steps an epoch.
const slow = ['training.batch_size=8', 'model.backbone.units=[16]', 'training.early_stopping.patience=1000'];

test('an unreachable Redis is a clear error within seconds, not a hang; a bad URL is a usage error', async () => {
  const port = await freePort();
  const started = Date.now();
  await assert.rejects(connectRedis(`redis://127.0.0.1:${port}/0`), (e: unknown) => e instanceof UserError && /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/0: .*ECONNREFUSED/.test(e.message));
  assert.ok(Date.now() - started < 5000);
  assert.throws(() => parseQueueUrl('http://x:1'), /expected a redis:\/\/ or rediss:\/\/ URL/);
  assert.throws(() => parseQueueUrl('redis://x:1/zero'), /the database must be a number/);
  const w = startWorker(`redis://127.0.0.1:${port}/0`);
  assert.equal(await w.exit, 1);
  assert.match(w.log(), /error: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/0/);
  assert.match(w.log(), /hint: start redis-server/);
});

test('two workers take a sweep; one killed with SIGKILL mid-trial loses nothing: the trial continues elsewhere from checkpoints/last, each trial is recorded once, results equal one process', { skip: skipWithoutRedis }, async () => {
  const dir = tempDir();
  const sweepFile = writeFile(dir, 'grid.yaml', spec);
  const args = { config: penguins, sweep: sweepFile, epochs: 12, set: slow };
  const local = await sweepCommand({ ...args, out: path.join(dir, 'local'), parallel: '1' }, captureOutput());

  const a = startWorker(redis!.url);
  const b = startWorker(redis!.url);
  await waitFor(() => /on the BullMQ queue/.test(a.log()) && /on the BullMQ queue/.test(b.log()), 'both workers');
  const out = path.join(dir, 'queued');
  const output = captureOutput();
  const started = Date.now();
  const sweep = sweepCommand({ ...args, out, queue: redis!.url }, output);
  // Kill worker a once the trial it took has finished two epochs.
  let victim = '';
  await waitFor(() => {
    const m = /(trial-\d+): started/.exec(a.log());
    if (!m) return false;
    victim = m[1];
    return epochsIn(path.join(out, victim)).length >= 2;
  }, 'worker a to be two epochs into a trial');
  a.child.kill('SIGKILL');
  const killedAt = epochsIn(path.join(out, victim)).length;
  const state: SweepState = await sweep;
  const seconds = (Date.now() - started) / 1000;
  assert.equal(state.status, 'finished');
  assert.deepEqual(state.trials.map((t) => t.id), ['trial-001', 'trial-002', 'trial-003', 'trial-004'], 'each trial once');
  assert.ok(state.trials.every((t) => t.status === 'finished'), state.trials.map((t) => `${t.id} ${t.status} ${t.error ?? ''}`).join('\n'));
  const killed = state.trials.find((t) => t.id === victim)!;
  assert.match(b.log(), new RegExp(`${victim}: started`), 'the live worker took the trial again');
  const meta = JSON.parse(readFileSync(path.join(out, victim, 'meta.json'), 'utf8'));
  assert.equal(meta.resumes?.length, 1, 'resumed once, from checkpoints/last');
  assert.ok(meta.resumes[0].from_epoch >= 2, `resumed from epoch ${meta.resumes[0].from_epoch} (killed after ${killedAt} epochs)`);
  assert.deepEqual(epochsIn(path.join(out, victim)), Array.from({ length: 12 }, (_, i) => i + 1), 'every epoch once: no gap, no duplicate');
  assert.deepEqual(state.trials.map((t) => [t.metric, t.epochs]), local.trials.map((t) => [t.metric, t.epochs]), 'the same results as in one process');
  assert.equal(killed.metric, local.trials.find((t) => t.id === victim)!.metric);
  assert.equal(state.best!.trial, local.best!.trial);
  process.stdout.write(`# queue sweep with a worker killed in ${victim} after ${killedAt} epochs: ${seconds.toFixed(1)}s (in one process: ${local.seconds.toFixed(1)}s)\n`);
  b.child.kill('SIGTERM');
  assert.equal(await b.exit, 143, 'a worker stopped by SIGTERM exits 143');
});

test('a Redis restart in the middle of a sweep is survived: workers and the sweep reconnect and every trial finishes once', { skip: skipWithoutRedis }, async () => {
  const dir = tempDir();
  const sweepFile = writeFile(dir, 'grid.yaml', spec);
  const w = startWorker(redis!.url);
  await waitFor(() => /on the BullMQ queue/.test(w.log()), 'the worker');
  const out = path.join(dir, 'sweep');
  const output = captureOutput();
  const sweep = sweepCommand({ config: penguins, sweep: sweepFile, epochs: 8, set: slow, out, queue: redis!.url }, output);
  await waitFor(() => /trial-001: started/.test(w.log()) && epochsIn(path.join(out, 'trial-001')).length >= 1, 'the first trial to train');
  await redis!.stop();
  await new Promise((r) => setTimeout(r, 1500));
  await redis!.start();
  const state = await sweep;
  assert.equal(state.status, 'finished');
  assert.ok(state.trials.every((t) => t.status === 'finished'), state.trials.map((t) => `${t.id} ${t.status} ${t.error ?? ''}`).join('\n'));
  for (const t of state.trials) assert.deepEqual(epochsIn(path.join(out, t.run_dir)), Array.from({ length: 8 }, (_, i) => i + 1), t.id);
  assert.match(w.log(), /lost the connection to Redis|reconnected/);
  w.child.kill('SIGTERM');
  await w.exit;
});
