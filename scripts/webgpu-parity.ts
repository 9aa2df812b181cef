/**
 * Trains every backbone, sharing scheme, input type and kind of weighting for two
 * epochs on two engines (default: cpu against webgpu) and prints how far their losses
 * and final weights are apart. On a machine with a GPU this checks the hardware path;
 * in CI the test runs the first two cases on lavapipe.
 *
 *   node dist/scripts/webgpu-parity.js [--a cpu] [--b webgpu] [--only SUBSTRING] [--json]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { allCases, runParity } from '../test/helpers/parity';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const a = arg('a', 'cpu');
const b = arg('b', 'webgpu');
const only = arg('only', '');
const json = process.argv.includes('--json');
const dir = mkdtempSync(path.join(tmpdir(), 'mtl-parity-'));
let failed = 0;
allCases.forEach((c, i) => {
  if (only && !c.name.includes(only)) return;
  try {
    const r = runParity(c, dir, a, b, i);
    if (json) console.log(JSON.stringify(r));
    else console.log(`${c.name.padEnd(58)} loss ${r.lossDiff.toExponential(2)}  weights ${r.weightDiff.toExponential(2)} (max |w| ${r.weightScale.toFixed(2)})  ${a} ${r.seconds.a.toFixed(1)} s, ${b} ${r.seconds.b.toFixed(1)} s`);
  } catch (e) {
    failed++;
    const err = e as { stderr?: string; message: string };
    console.log(`${c.name.padEnd(58)} FAILED: ${(err.stderr || err.message).split('\n').filter((l) => !l.startsWith('Warning: max')).slice(0, 6).join(' | ')}`);
  }
});
process.exit(failed ? 1 : 0);
