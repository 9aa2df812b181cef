/** Checkpoints detect corruption: a damaged byte in a weights file is exit 1 naming the file and the other checkpoint, never a silent NaN. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, tempDir } from '../helpers/tmp';

const bin = path.join(repoRoot, 'bin', 'mtl.js');
const mtl = (...args: string[]) => spawnSync(process.execPath, [bin, ...args, '--backend', 'wasm'], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });

test('one flipped byte in checkpoints/best: eval exits 1 naming the weights file and suggesting checkpoints/last, which still evaluates', () => {
  const run = path.join(tempDir(), 'run');
  assert.equal(mtl('train', path.join(repoRoot, 'configs', 'penguins.yaml'), '--epochs', '2', '--out', run).status, 0);
  const best = path.join(run, 'checkpoints', 'best');
  const model = JSON.parse(readFileSync(path.join(best, 'model.json'), 'utf8'));
  const weights = readdirSync(best).find((f) => f.startsWith('weights-'))!;
  assert.match(model.userDefinedMetadata.mtlSha256[weights], /^[0-9a-f]{64}$/);
  const file = path.join(best, weights);
  const bytes = readFileSync(file);
  bytes[41] ^= 0x7f;
  writeFileSync(file, bytes);
  const r = mtl('eval', run);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`error: .*${weights} is damaged: its SHA-256 does not match`));
  assert.match(r.stderr, /hint: .*try .*checkpoints\/last/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  assert.equal(mtl('eval', path.join(run, 'checkpoints', 'last')).status, 0);
});
