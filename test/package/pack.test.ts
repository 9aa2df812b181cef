/**
 * The published package as a user gets it: `npm pack`, installed into an empty folder
 * (dependencies from the registry or npm's cache, no repository files, no ../shared),
 * then its own bin: --version, init --example, a short train, and the library import.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, tempDir } from '../helpers/tmp';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

test('npm pack -> npm install in an empty folder -> mtl --version, mtl init --example penguins, mtl train, import', { timeout: 600_000 }, () => {
  const dir = tempDir();
  execFileSync(npm, ['pack', repoRoot, '--pack-destination', dir, '--ignore-scripts', '--silent'], { cwd: dir, encoding: 'utf8' });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  const pkg = require(path.join(repoRoot, 'package.json')) as { name: string; version: string };
  assert.equal(tarball, `${pkg.name}-${pkg.version}.tgz`);
  const app = path.join(dir, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), '{"name": "app", "version": "1.0.0", "private": true}\n');
  // Optional engines (tfjs-node downloads libtensorflow at install) are left out, as on a machine without them.
  execFileSync(npm, ['install', path.join(dir, tarball), '--omit=optional', '--prefer-offline', '--no-audit', '--no-fund', '--silent'], { cwd: app, encoding: 'utf8', timeout: 500_000 });
  const mtl = (...args: string[]) => spawnSync(path.join(app, 'node_modules', '.bin', 'mtl'), args, { cwd: app, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  const version = mtl('--version');
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), pkg.version);
  const init = mtl('init', '--example', 'penguins');
  assert.equal(init.status, 0, init.stderr);
  const run = mtl('train', 'penguins.yaml', '--epochs', '2', '--backend', 'wasm', '--json');
  assert.equal(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout);
  assert.equal(summary.epochs, 2);
  assert.ok(summary.run_dir.startsWith(app));
  const api = spawnSync(process.execPath, ['-e', `import('${pkg.name}').then((m) => console.log(typeof m.train, typeof m.compare, m.version))`], { cwd: app, encoding: 'utf8' });
  assert.equal(api.stdout.trim(), `function function ${pkg.version}`, api.stderr);
});
