/**
 * Inter-task affinity: the grouping search on hand-made matrices, and `mtl affinity`
 * on a constructed four-task case: a and b read x1, c and d read x2, and the shared
 * layer is one unit wide, so the pairs compete for it. It must find the pairs.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { affinityCommand } from '../../src/api/affinity';
import { Rng } from '../../src/data/rng';
import { buildRunReport } from '../../src/outputs/report/run-report';
import { bestGroupings, groupingScore, partitions } from '../../src/training/affinity';
import { captureOutput } from '../helpers/output';
import { tempDir, writeFile } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

test('partitions: every split into k non-empty groups, once (Stirling numbers 7, 6, 1 for 4 tasks)', () => {
  assert.equal(partitions(4, 2).length, 7);
  assert.equal(partitions(4, 3).length, 6);
  assert.deepEqual(partitions(4, 4), [[[0], [1], [2], [3]]]);
  assert.equal(partitions(5, 2).length, 15);
});

test('grouping score: each task gets the mean affinity onto it from its groupmates; the best split keeps friends together', () => {
  const z = [
    [0, 0.5, -0.2, -0.1],
    [0.3, 0, -0.3, 0],
    [-0.1, -0.2, 0, 0.4],
    [0, -0.1, 0.2, 0],
  ];
  assert.ok(Math.abs(groupingScore([[0, 1], [2, 3]], z) - (0.3 + 0.5 + 0.2 + 0.4)) < 1e-12);
  assert.equal(groupingScore([[0], [1], [2], [3]], z), 0);
  const [two] = bestGroupings(z, 3);
  assert.equal(two.k, 2);
  assert.deepEqual(two.groups, [[0, 1], [2, 3]]);
});

test('mtl affinity finds the two related pairs of a constructed four-task case and writes affinity.json', async () => {
  const dir = tempDir();
  const rng = new Rng(3);
  const rows = ['x1,x2,x3,x4,a,b,c,d'];
  for (let i = 0; i < 320; i++) {
    const x = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
    const noise = () => 0.1 * rng.normal();
    rows.push([...x, x[0] + noise(), x[0] + 0.3 * x[2] + noise(), x[1] + noise(), x[1] - 0.3 * x[3] + noise()].map((v) => v.toFixed(4)).join(','));
  }
  const data = writeFile(dir, 'four.csv', `${rows.join('\n')}\n`);
  const config = writeFile(
    dir,
    'four.yaml',
    `data: {format: csv, path: ${data}, features: [x1, x2, x3, x4]}
model: {backbone: {type: mlp, units: [1], activation: linear}}
tasks:
  a: {type: regression, target: a}
  b: {type: regression, target: b}
  c: {type: regression, target: c}
  d: {type: regression, target: d}
training: {epochs: 20, batch_size: 32, optimizer: {type: sgd, learning_rate: 0.05}, diagnostics: {enabled: false}}
`,
  );
  const out = captureOutput();
  const report = await affinityCommand({ config, out: path.join(dir, 'run') }, out);
  const saved = JSON.parse(readFileSync(path.join(dir, 'run', 'affinity.json'), 'utf8'));
  assert.deepEqual(saved.tasks, ['a', 'b', 'c', 'd']);
  assert.ok(saved.steps > 20);
  const z = saved.affinity;
  const mean = (pairs: string[][]) => pairs.reduce((s, [x, y]) => s + z[x][y], 0) / pairs.length;
  const within = mean([['a', 'b'], ['b', 'a'], ['c', 'd'], ['d', 'c']]);
  const across = mean([['a', 'c'], ['a', 'd'], ['b', 'c'], ['b', 'd'], ['c', 'a'], ['c', 'b'], ['d', 'a'], ['d', 'b']]);
  assert.ok(within > 0, `related tasks help each other: ${within}`);
  assert.ok(across < 0, `the pairs compete for the shared unit: ${across}`);
  const two = report.groupings.find((g) => g.k === 2)!;
  assert.deepEqual(two.groups.map((g) => [...g].sort()).sort(), [['a', 'b'], ['c', 'd']]);
  assert.match(out.text(), /best split into 2 groups: \{a, b\} \{c, d\}/);
  const page = await buildRunReport(path.join(dir, 'run'));
  assert.match(page.html, /Inter-task affinity/);
  assert.match(page.html, /\{a, b\} \{c, d\}/);
});
