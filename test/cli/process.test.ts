import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { repoRoot, tempDir, writeFile } from '../helpers/tmp';

const bin = path.join(repoRoot, 'bin', 'mtl.js');

function mtl(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('help and version exit 0', () => {
  const help = mtl('--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /train \[options\] \[config\]/);
  assert.equal(mtl('--version').code, 0);
});

test('usage mistakes exit 2 with a message and no stack trace', () => {
  const unknown = mtl('train', 'x.yaml', '--epoch', '3');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option '--epoch'/);
  const badNumber = mtl('train', 'x.yaml', '--epochs', 'many');
  assert.equal(badNumber.code, 2);
  assert.match(badNumber.stderr, /expected a whole number, got "many"/);
  assert.equal(mtl('frobnicate').code, 2);
});

test('a bad config exits 2 naming file, line and key; no stack trace', () => {
  const file = writeFile(tempDir(), 'bad.yaml', 'data: {format: csv, path: x.csv}\nmodel:\n  backbone: {type: mlpp}\ntasks: {a: {type: regression, target: y}}\n');
  const r = mtl('validate', file);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: .*bad\.yaml:3 model\.backbone\.type: expected mlp \| resnet \| cnn, got "mlpp"; did you mean "mlp"\?/m);
  assert.match(r.stderr, /^hint: /m);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('validate prints the resolved config with defaults', () => {
  const r = mtl('validate', path.join(repoRoot, 'configs', 'penguins.yaml'));
  assert.equal(r.code, 0);
  assert.match(r.stdout, /batch_size: 32/);
  assert.match(r.stdout, /sharing:\n\s+type: hard/);
});

test('a missing data file exits 2 with the file and config key; no run folder is left half-made', () => {
  const dir = tempDir();
  const file = writeFile(dir, 'c.yaml', `data: {format: csv, path: nowhere.csv}\nmodel: {backbone: {type: mlp}}\ntasks: {a: {type: regression, target: y}}\noutput: {dir: ${dir}/runs}\n`);
  const r = mtl('train', file);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /nowhere\.csv: no such file \(from data\.path\)/);
  assert.equal(existsSync(path.join(dir, 'runs')), false);
});

test('eval of a folder that is not a run exits with a clear message', () => {
  const r = mtl('eval', tempDir());
  assert.equal(r.code, 1);
  assert.match(r.stderr, /holds no checkpoint/);
});

// --backend wasm in the quiet run: probing WebGPU on a software Vulkan driver makes Dawn print two warnings of its own.
test('messages go to stderr and data to stdout: --json is the only thing on stdout, --quiet leaves only errors', () => {
  const dir = tempDir();
  const r = mtl('train', path.join(repoRoot, 'configs', 'penguins.yaml'), '--epochs', '2', '--out', path.join(dir, 'run'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.epochs, 2);
  assert.ok(Number.isFinite(summary.test.tasks.species.metrics.accuracy));
  assert.match(r.stderr, /epoch\s+2\/2/);
  const v = mtl('validate', path.join(repoRoot, 'configs', 'penguins.yaml'), '--json', '--quiet');
  assert.equal(v.code, 0);
  assert.equal(JSON.parse(v.stdout).training.batch_size, 32);
  assert.equal(v.stderr, '');
  const q = mtl('train', path.join(repoRoot, 'configs', 'penguins.yaml'), '--epochs', '1', '--out', path.join(dir, 'quiet'), '--quiet', '--backend', 'wasm');
  assert.equal(q.code, 0);
  assert.equal(q.stdout + q.stderr, '');
});
