/**
 * Real processes, real signals: Ctrl-C saves and exits 130, a second Ctrl-C exits
 * at once, and SIGKILL at random moments never leaves a checkpoint or metrics file
 * that cannot be read (MTL_KILL_ROUNDS sets the number of kill rounds).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { loadCheckpoint } from '../../src/outputs/checkpoint';
import { Rng } from '../../src/data/rng';
import { repoRoot, tempDir } from '../helpers/tmp';

const bin = path.join(repoRoot, 'bin', 'mtl.js');
const config = path.join(repoRoot, 'configs', 'penguins.yaml');

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

function start(args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, CI: 'true' } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function waitFor(check: () => boolean, what: string, ms = 30000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const noEarlyStop = ['--set', 'training.early_stopping.patience=1000'];

test('Ctrl-C stops after the step, saves checkpoints/last, prints the resume command and exits 130; resume finishes', async () => {
  const out = path.join(tempDir(), 'run');
  const p = start(['train', config, '--out', out, '--epochs', '40', ...noEarlyStop]);
  await waitFor(() => /epoch\s+3\/40/.test(p.stderr()), 'epoch 3');
  p.child.kill('SIGINT');
  assert.equal(await p.exit, 130);
  assert.match(p.stderr(), /SIGINT: stopping after the current step/);
  assert.match(p.stderr(), new RegExp(`resume with: mtl train --resume ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const meta = JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8'));
  assert.equal(meta.status, 'interrupted');
  const r = start(['train', '--resume', out]);
  assert.equal(await r.exit, 0, r.stderr());
  const epochs = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).epoch);
  assert.deepEqual(epochs, Array.from({ length: 40 }, (_, i) => i + 1));
});

test('SIGTERM stops the same way, saving checkpoints/last, and exits 143', async () => {
  const out = path.join(tempDir(), 'run');
  const p = start(['train', config, '--out', out, '--epochs', '40', ...noEarlyStop]);
  await waitFor(() => /epoch\s+2\/40/.test(p.stderr()), 'epoch 2');
  p.child.kill('SIGTERM');
  assert.equal(await p.exit, 143);
  assert.match(p.stderr(), /SIGTERM: stopping after the current step/);
  assert.equal(JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8')).status, 'interrupted');
});

test('a second Ctrl-C exits at once', async () => {
  const out = path.join(tempDir(), 'run');
  // Slow steps (a ResNet on images), so the second signal arrives while the first waits for the step.
  const fashion = path.join(repoRoot, 'configs', 'fashion-mnist.yaml');
  const p = start(['train', fashion, '--out', out, '--set', 'data.limit=200', '--set', 'training.batch_size=128']);
  await waitFor(() => /^data: /m.test(p.stderr()), 'training to start');
  await new Promise((r) => setTimeout(r, 300));
  p.child.kill('SIGINT');
  await waitFor(() => /SIGINT: stopping/.test(p.stderr()), 'the first interrupt');
  const sent = Date.now();
  p.child.kill('SIGINT');
  const code = await p.exit;
  // Killed by the signal's default action (the shell shows 130), or done saving first: 130 either way.
  assert.ok(code === 130 || p.child.signalCode === 'SIGINT', `exit ${code} ${p.child.signalCode}`);
  assert.ok(Date.now() - sent < 5000, 'at once');
  const last = await loadCheckpoint(path.join(out, 'checkpoints', 'last')).catch(() => undefined);
  last?.model.dispose();
});

test('SIGKILL at random moments never leaves a corrupt checkpoint or metrics file', async () => {
  const rounds = Number(process.env.MTL_KILL_ROUNDS ?? 12);
  const rng = new Rng(2026);
  const out = path.join(tempDir(), 'run');
  let killedWhileSaving = 0;
  for (let round = 0; round < rounds; round++) {
    const resume = existsSync(path.join(out, 'checkpoints', 'last', 'model.json'));
    const p = start(resume ? ['train', '--resume', out] : ['train', config, '--out', out, '--epochs', '1000', ...noEarlyStop]);
    await waitFor(() => /epoch\s+\d+\/1000/.test(p.stderr()) || p.child.exitCode !== null, 'the first epoch');
    await new Promise((r) => setTimeout(r, rng.uniform(0, 400)));
    p.child.kill('SIGKILL');
    await p.exit;
    const dir = path.join(out, 'checkpoints', 'last');
    if (readdirTemp(dir)) killedWhileSaving++;
    for (const which of ['last', 'best']) {
      const loaded = await loadCheckpoint<{ state: { epoch: number } }>(path.join(out, 'checkpoints', which));
      assert.ok(loaded.meta.state.epoch >= 1, `${which} after round ${round}`);
      loaded.model.dispose();
    }
    const jsonl = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const csv = readFileSync(path.join(out, 'metrics.csv'), 'utf8').trim().split('\n');
    // Each file is replaced atomically on its own, so a kill between the two writes leaves them one row apart.
    assert.ok(Math.abs(csv.length - 1 - jsonl.length) <= 1, 'metrics.csv and metrics.jsonl agree up to the row being written');
    const width = csv[0].split(',').length;
    assert.ok(csv.every((line) => line.split(',').length === width), 'every metrics.csv row is complete');
    assert.deepEqual(jsonl.map((r) => r.epoch), jsonl.map((_, i) => i + 1), 'no gap, no duplicate');
  }
  process.stdout.write(`# kill rounds: ${rounds}, killed with a temp file present: ${killedWhileSaving}\n`);
});

function readdirTemp(dir: string): boolean {
  try {
    return readdirSync(dir).some((f) => f.includes('.tmp-'));
  } catch {
    return false;
  }
}
