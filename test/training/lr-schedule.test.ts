import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLrSchedule } from '../../src/training/lr-schedule';
import { Monitor } from '../../src/training/monitor';
import { resolveMode } from '../../src/training/metric-keys';

const monitor = { key: 'val/loss', mode: 'min' as const };
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

test('step decay multiplies by gamma every step_size epochs', () => {
  const s = createLrSchedule({ type: 'step', step_size: 2, gamma: 0.5 }, 1, 10, monitor);
  assert.deepEqual([1, 2, 3, 4, 5].map((e) => s.rateFor(e)), [1, 1, 0.5, 0.5, 0.25]);
});

test('cosine starts at the base rate, passes half-way at the middle, warms up linearly', () => {
  const s = createLrSchedule({ type: 'cosine', min_lr: 0, warmup_epochs: 0 }, 1, 11, monitor);
  close(s.rateFor(1), 1);
  close(s.rateFor(6), 0.5 * (1 + Math.cos(Math.PI * 5 / 11)));
  assert.ok(s.rateFor(11) < 0.05);
  const w = createLrSchedule({ type: 'cosine', min_lr: 0.1, warmup_epochs: 2 }, 1, 12, monitor);
  close(w.rateFor(1), 0.5);
  close(w.rateFor(3), 1);
});

test('plateau cuts the rate after patience epochs without improvement, and its state round-trips', () => {
  const s = createLrSchedule({ type: 'plateau', mode: 'auto', factor: 0.5, patience: 1, min_lr: 0.2, min_delta: 0 }, 1, 10, monitor);
  for (const v of [1, 0.9, 0.95, 0.95]) s.afterEpoch({ 'val/loss': v });
  assert.equal(s.rateFor(5), 0.5);
  const copy = createLrSchedule({ type: 'plateau', mode: 'auto', factor: 0.5, patience: 1, min_lr: 0.2, min_delta: 0 }, 1, 10, monitor);
  copy.setState(JSON.parse(JSON.stringify(s.getState())));
  for (const v of [0.95, 0.95, 0.95, 0.95]) {
    s.afterEpoch({ 'val/loss': v });
    copy.afterEpoch({ 'val/loss': v });
  }
  assert.equal(s.rateFor(9), 0.2, 'never below min_lr');
  assert.equal(copy.rateFor(9), s.rateFor(9));
});

test('monitors: auto mode maximizes accuracy and R², minimizes losses', () => {
  assert.equal(resolveMode('val/species/accuracy', 'auto'), 'max');
  assert.equal(resolveMode('val/mass/r2', 'auto'), 'max');
  assert.equal(resolveMode('val/mass/mae', 'auto'), 'min');
  const m = new Monitor('val/loss', 'min', 0.1);
  assert.equal(m.update(1), true);
  assert.equal(m.update(0.95), false, 'an improvement under min_delta does not count');
  assert.equal(m.wait, 1);
  assert.equal(m.update(0.5), true);
  assert.equal(m.wait, 0);
});
