import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { trainCommand } from '../../src/api/train';
import { InterruptedError } from '../../src/errors';
import type { StopSignal } from '../../src/training/loop';
import { silentProgress, type ProgressReporter } from '../../src/training/progress';
import { captureOutput } from './output';
import { tempDir } from './tmp';

/** The weights of a run's checkpoint as one Float32Array (manifest order). */
export function checkpointWeights(runDir: string, which: 'best' | 'last' = 'last'): Float32Array {
  const dir = path.join(runDir, 'checkpoints', which);
  const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const bytes = readFileSync(path.join(dir, json.weightsManifest[0].paths[0]));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** metrics.jsonl rows without the wall-clock column. */
export function metricRows(runDir: string): Record<string, number>[] {
  return readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const row = JSON.parse(l);
      delete row.time_s;
      return row;
    });
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Trains `config` (with `set`) straight through, and again stopped at step `stopAt.step`
 * of epoch `stopAt.epoch` and resumed: asserts the two end with the same weights and the
 * same metrics.jsonl rows. Returns the straight run's log.
 */
export async function assertResumeExact(config: string, set: string[], epochs: number, stopAt: { epoch: number; step: number }): Promise<{ log: string; straight: string }> {
  const root = tempDir();
  const straight = path.join(root, 'straight');
  const out = captureOutput();
  await trainCommand({ config, out: straight, epochs, set }, out, silentProgress);
  const run = path.join(root, 'run');
  const stop: StopSignal = { requested: false };
  let epoch = 0;
  const progress: ProgressReporter = { ...silentProgress, startEpoch: (e) => (epoch = e), step: (s) => void (epoch === stopAt.epoch && s === stopAt.step && (stop.requested = true)) };
  await assert.rejects(trainCommand({ config, out: run, epochs, set }, captureOutput(), progress, stop), (e) => e instanceof InterruptedError);
  await trainCommand({ resume: run }, captureOutput(), silentProgress);
  assert.ok(maxAbsDiff(checkpointWeights(run), checkpointWeights(straight)) <= 1e-6);
  assert.deepEqual(metricRows(run), metricRows(straight));
  return { log: out.text(), straight };
}
