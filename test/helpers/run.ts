import { readFileSync } from 'node:fs';
import path from 'node:path';

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
