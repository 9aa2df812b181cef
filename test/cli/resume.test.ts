import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { trainCommand } from '../../src/api/train';
import { ConfigError, InterruptedError, UserError } from '../../src/errors';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import type { StopSignal } from '../../src/training/loop';
import { silentProgress, type ProgressReporter } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { checkpointWeights, maxAbsDiff, metricRows } from '../helpers/run';
import { repoRoot, tempDir } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

// The penguins demo has dropout, an lr schedule, early stopping and Adam: all of it must resume exactly.
const config = path.join(repoRoot, 'configs', 'penguins.yaml');
const epochs = 5;

/** Trains with a stop requested by `when`; returns the run folder. */
async function interruptedRun(when: (p: { epoch: number; step: number }) => boolean): Promise<string> {
  const out = path.join(tempDir(), 'run');
  const stop: StopSignal = { requested: false };
  let epoch = 0;
  const progress: ProgressReporter = {
    ...silentProgress,
    startEpoch: (e) => (epoch = e),
    step: (step) => {
      if (when({ epoch, step })) stop.requested = true;
    },
  };
  await assert.rejects(trainCommand({ config, out, epochs }, captureOutput(), progress, stop), (e) => e instanceof InterruptedError && e.exitCode === 130);
  return out;
}

test('a run interrupted after an epoch or mid-epoch and resumed ends exactly like one that ran straight through', async () => {
  const straight = path.join(tempDir(), 'straight');
  await trainCommand({ config, out: straight, epochs }, captureOutput(), silentProgress);
  const reference = checkpointWeights(straight);

  for (const [label, when] of [
    ['after epoch 2', (p: { epoch: number; step: number }) => p.epoch === 3 && p.step === 1],
    ['mid-epoch 3', (p: { epoch: number; step: number }) => p.epoch === 3 && p.step === 4],
  ] as const) {
    const run = await interruptedRun(when);
    await trainCommand({ resume: run }, captureOutput(), silentProgress);
    const diff = maxAbsDiff(checkpointWeights(run), reference);
    assert.ok(diff <= 1e-6, `${label}: weights differ by ${diff}`);
    assert.deepEqual(metricRows(run), metricRows(straight), label);
    assert.ok(maxAbsDiff(checkpointWeights(run, 'best'), checkpointWeights(straight, 'best')) <= 1e-6, `${label}: best checkpoint`);
  }
});

test('resuming with a changed config is refused with the changed keys, unless --force', async () => {
  const run = await interruptedRun((p) => p.epoch === 2 && p.step === 1);
  await assert.rejects(
    trainCommand({ resume: run, epochs: 7, set: ['training.optimizer.learning_rate=0.1'] }, captureOutput(), silentProgress),
    (e) => e instanceof ConfigError && /differs from the run being resumed in: training\.epochs, training\.optimizer\.learning_rate/.test(e.message),
  );
  const summary = await trainCommand({ resume: run, epochs: 3, force: true }, captureOutput(), silentProgress);
  assert.equal(summary.epochs, 3);
  assert.equal(metricRows(run).length, 3);
});

test('a loss that turns NaN stops training, names task, epoch and step, and keeps the last good checkpoint', async () => {
  const run = path.join(tempDir(), 'run');
  await trainCommand({ config, out: run, epochs: 2, set: ['training.early_stopping.patience=100'] }, captureOutput(), silentProgress);
  const good = checkpointWeights(run);
  await assert.rejects(
    trainCommand({ resume: run, epochs: 4, force: true, set: ['training.early_stopping.patience=100', 'training.optimizer={type: sgd, learning_rate: 1000}'] }, captureOutput(), silentProgress),
    (e) => e instanceof UserError && e.exitCode === 1 && /training diverged: the loss of task (species|body_mass)(, (species|body_mass))? became NaN or infinite at epoch 3, step \d+; checkpoints\/last still holds epoch 2/.test(e.message),
  );
  assert.deepEqual(Array.from(checkpointWeights(run)), Array.from(good), 'the last good checkpoint is untouched');
  assert.ok(Array.from(good).every(Number.isFinite));
  assert.equal(JSON.parse(readFileSync(path.join(run, 'meta.json'), 'utf8')).status, 'failed');
});

test('on_nan: skip_batch skips non-finite batches and finishes', async () => {
  const run = path.join(tempDir(), 'run');
  const lines = captureOutput();
  const progress = { ...silentProgress, log: (m: string) => lines.log(m) };
  const summary = await trainCommand({ config, out: run, epochs: 2, set: ['training.optimizer={type: sgd, learning_rate: 1000}', 'training.on_nan=skip_batch'] }, captureOutput(), progress);
  assert.equal(summary.epochs, 2);
  assert.match(lines.text(), /warning: the loss of task .* is not finite at epoch 1, step \d+; batch skipped/);
});

test('resuming from a checkpoint copied from another run is refused', async () => {
  const a = path.join(tempDir(), 'a');
  const b = path.join(tempDir(), 'b');
  await trainCommand({ config, out: a, epochs: 1 }, captureOutput(), silentProgress);
  await trainCommand({ config, out: b, epochs: 1, seed: 5 }, captureOutput(), silentProgress);
  rmSync(path.join(b, 'checkpoints', 'last'), { recursive: true });
  cpSync(path.join(a, 'checkpoints', 'last'), path.join(b, 'checkpoints', 'last'), { recursive: true });
  await assert.rejects(trainCommand({ resume: b }, captureOutput(), silentProgress), /checkpoints\/last: this checkpoint was trained with another config/);
});
