/**
 * The bad-input corpus: test/corpus/<case>/ holds a config and/or data files and
 * expect.json with the command, the exit code and a pattern the message must match.
 * Every case runs the real CLI in a child process; none may end in a stack trace.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { trainCommand } from '../../src/api/train';
import { silentProgress } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { repoRoot, tempDir } from '../helpers/tmp';

interface Expectation {
  command: string[];
  exit: number;
  stderr: string;
}

const corpus = path.join(repoRoot, 'test', 'corpus');
const cases = readdirSync(corpus).sort();
const work = tempDir();
const places: Record<string, string> = { tmp: work };

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
  // Runs that the eval cases score new files against.
  const table = path.join(work, 'table');
  const csv = 'kind,size,x,color\n' + Array.from({ length: 30 }, (_, i) => `${i % 2 ? 'a' : 'b'},${i * 1.5},${i * 2},${i % 3 ? 'red' : 'blue'}`).join('\n');
  writeFileSync(path.join(work, 'data.csv'), csv);
  writeFileSync(
    path.join(work, 'table.yaml'),
    'data: {format: csv, path: data.csv}\nmodel: {backbone: {type: mlp, units: [4]}}\ntasks:\n  kind: {type: classification, target: kind}\n  size: {type: regression, target: size}\ntraining: {epochs: 1}\n',
  );
  await trainCommand({ config: path.join(work, 'table.yaml'), out: table }, captureOutput(), silentProgress);
  places.tablerun = table;
  const images = path.join(corpus, 'truncated-idx');
  cpSync(path.join(corpus, 'idx-count-mismatch', 'images.idx'), path.join(work, 'images.idx'));
  cpSync(path.join(images, 'labels.idx'), path.join(work, 'labels.idx'));
  cpSync(path.join(images, 'config.yaml'), path.join(work, 'images.yaml'));
  await trainCommand({ config: path.join(work, 'images.yaml'), out: path.join(work, 'images') }, captureOutput(), silentProgress);
  places.imagerun = path.join(work, 'images');
  const broken = path.join(work, 'broken');
  cpSync(table, broken, { recursive: true });
  const best = path.join(broken, 'checkpoints', 'best');
  const bin = readdirSync(best).find((f) => f.startsWith('weights-'))!;
  truncateSync(path.join(best, bin), 16);
  places.brokenrun = broken;
});

function run(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'mtl.js'), ...args], { cwd, env: { ...process.env, CI: 'true' } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('the corpus holds at least 30 cases', () => {
  assert.ok(cases.length >= 30, `${cases.length} cases`);
});

describe('bad input', { concurrency: 2 }, () => {
  for (const name of cases) {
    test(name, async () => {
      const dir = path.join(corpus, name);
      const expect = JSON.parse(readFileSync(path.join(dir, 'expect.json'), 'utf8')) as Expectation;
      const fill = (arg: string) => arg.replace(/\{(\w+)\}/g, (_, key: string) => (key === 'dir' ? dir : key === 'tmp' ? path.join(work, name) : places[key]));
      const { code, stderr } = await run(expect.command.map(fill), dir);
      assert.equal(code, expect.exit, `exit code; stderr:\n${stderr}`);
      if (expect.exit !== 0) assert.match(stderr, new RegExp(expect.stderr), 'message');
      assert.doesNotMatch(stderr, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
      assert.doesNotMatch(stderr, /internal error/);
    });
  }
});
