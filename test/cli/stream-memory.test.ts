/**
 * Streamed training stays within its memory budget: a table whose encoded size is
 * several times data.memory_budget trains in a child process (so its RSS is its own),
 * once streamed and once loaded whole; the streamed run's peak RSS over the process's
 * RSS before loading stays near the budget, and well below the whole load's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '../../src/data/rng';
import { repoRoot, tempDir } from '../helpers/tmp';

const dir = tempDir();
const columns = 32;
const rows = 60000;

function table(): string {
  const rng = new Rng(3);
  const header = [...Array.from({ length: columns }, (_, i) => `x${i}`), 'kind'].join(',');
  const lines = [header];
  for (let r = 0; r < rows; r++) {
    const x = Array.from({ length: columns }, () => rng.normal());
    lines.push(`${x.map((v) => v.toFixed(4)).join(',')},${x[0] + x[1] > 0 ? 'a' : 'b'}`);
  }
  const file = path.join(dir, 'wide.csv');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function run(config: string): { before: number; loaded: number; peak: number; lines: string } {
  const script = `
    const root = ${JSON.stringify(path.join(repoRoot, 'dist', 'src'))};
    const load = require(root + '/data/load');
    const { trainCommand } = require(root + '/api/train');
    const { silentProgress } = require(root + '/training/progress');
    let before = 0;
    const original = load.loadData;
    let loaded = 0;
    load.loadData = async (c) => { before = process.memoryUsage().rss; const d = await original(c); loaded = process.resourceUsage().maxRSS * 1024; return d; };
    const lines = [];
    trainCommand({ config: ${JSON.stringify(config)}, out: ${JSON.stringify(path.join(dir, 'run-'))} + Math.random(), backend: 'wasm', device: 'cpu' }, { log: (m) => lines.push(m) }, silentProgress)
      .then(() => console.log(JSON.stringify({ before, loaded, peak: process.resourceUsage().maxRSS * 1024, lines: lines.join('\\n') })), (e) => { console.error(e); process.exit(1); });`;
  // A small young generation: the RSS then follows what is kept, not how much garbage V8 lets pile up before collecting it.
  const child = spawnSync(process.execPath, ['--max-semi-space-size=1', '-e', script], { encoding: 'utf8', env: { ...process.env, CI: 'true' }, timeout: 300000 });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout.trim().split('\n').pop()!);
}

test('a streamed run on a table several times its memory budget keeps its RSS near the budget', { timeout: 300000 }, () => {
  const file = table();
  const yaml = (data: string) => {
    const config = path.join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(config, `data: {format: csv, path: ${file}${data}}\nmodel: {backbone: {type: mlp, units: [16]}}\ntasks:\n  kind: {type: classification, target: kind}\ntraining: {epochs: 1, batch_size: 256, diagnostics: {enabled: false}}\n`);
    return config;
  };
  const budget = 2 ** 20;
  const encoded = rows * (columns + 1) * 4;
  assert.ok(encoded > 2.5 * budget, 'the table is several times the budget');
  const streamed = run(yaml(`, streaming: true, memory_budget: ${budget}`));
  const whole = run(yaml(', streaming: false'));
  assert.match(streamed.lines, /data: streaming from disk/);
  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  const figures = `streamed: load +${mb(streamed.loaded - streamed.before)} MB, run +${mb(streamed.peak - streamed.before)} MB; loaded whole: load +${mb(whole.loaded - whole.before)} MB, run +${mb(whole.peak - whole.before)} MB (encoded ${mb(encoded)} MB, budget ${mb(budget)} MB)`;
  // Loading: the budget and a few MB of bookkeeping (a byte a row for the split, the block list), not the table.
  assert.ok(streamed.loaded - streamed.before < budget + 16 * 2 ** 20, figures);
  assert.ok(streamed.loaded - streamed.before < whole.loaded - whole.before - encoded / 2, figures);
  // Training adds the same for both (the model, tfjs's heap); the whole load keeps the table on top.
  assert.ok(streamed.peak - streamed.before < whole.peak - whole.before, figures);
});
