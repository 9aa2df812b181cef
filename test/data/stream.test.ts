import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { pixelCacheStats } from '../../src/inputs/image';
import { initBackend } from '../../src/backends';
import { loadData } from '../../src/data/load';
import { shuffleCloseness } from '../../src/data/stream';
import type { Split } from '../../src/data/types';
import { configFrom } from '../helpers/config';
import { assertResumeExact } from '../helpers/run';
import { repoRoot, tempDir } from '../helpers/tmp';

const penguins = path.join(repoRoot, 'datasets', 'penguins', 'penguins.csv');
const dir = tempDir();

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

const penguinConfig = (data: string) =>
  configFrom(`data: {format: csv, path: ${penguins}, features: [island, bill_length_mm, bill_depth_mm, flipper_length_mm, sex]${data}}
model: {backbone: {type: mlp}}
tasks:
  species: {type: classification, target: species, class_weight: balanced}
  mass: {type: regression, target: body_mass_g}
`);

function epochRows(split: Split, epoch: number, batch: number): number[] {
  const stream = split.stream!.epoch!(epoch, batch, 0);
  const out: number[] = [];
  for (let b = stream.next(); b; b = stream.next()) out.push(...b.rows);
  return out;
}

test('streamed data: the same split, the same preprocessing (to rounding), every train row once an epoch', async () => {
  const whole = await loadData(penguinConfig(''));
  const streamed = await loadData(penguinConfig(', streaming: true, memory_budget: 16KB, shuffle_buffer: 40'));
  assert.ok(streamed.train.stream && !whole.train.stream);
  for (const part of ['train', 'val', 'test'] as const) assert.equal(streamed[part].size, whole[part].size, part);
  assert.deepEqual(whole.notes.filter((n) => /dropped/.test(n)), streamed.notes.filter((n) => /dropped/.test(n)));
  assert.ok(streamed.notes[0].startsWith('data: streaming from disk (data.streaming: true)'), streamed.notes[0]);
  const a = whole.preprocessing;
  const b = streamed.preprocessing;
  assert.deepEqual(b.targets.species, a.targets.species);
  a.inputs.forEach((input, i) => {
    const sa = input.state as Record<string, unknown>;
    const sb = b.inputs[i].state as Record<string, unknown>;
    for (const [k, v] of Object.entries(sa)) {
      if (typeof v === 'number') assert.ok(Math.abs(v - (sb[k] as number)) <= 1e-9 * Math.max(1, Math.abs(v)), `${input.name}.${k}`);
      else assert.deepEqual(sb[k], v);
    }
  });
  const rows = epochRows(streamed.train, 1, 32);
  assert.deepEqual([...rows].sort((x, y) => x - y), [...whole.train.rows].sort((x, y) => x - y));
  assert.deepEqual(epochRows(streamed.train, 1, 32), rows, 'seeded: the same epoch, the same order');
  assert.notDeepEqual(epochRows(streamed.train, 2, 32), rows, 'each epoch its own order');
  // Resuming at a step gives the batches the epoch would have given from there.
  const from3 = streamed.train.stream!.epoch!(1, 32, 3).next()!;
  assert.deepEqual([...from3.rows], rows.slice(96, 128));
  // Val and test stream in file order; their first pass keeps targets and lines.
  let n = 0;
  for (const chunk of streamed.test.stream!.chunks()) n += chunk.size;
  assert.equal(n, whole.test.size);
});

test('the shuffle buffer is close to a full shuffle, and a whole-file buffer is one', () => {
  const n = 20000;
  const full = shuffleCloseness(n, n, 500, 7);
  const small = shuffleCloseness(n, 2000, 250, 7);
  const none = shuffleCloseness(n, 1, n, 7);
  assert.ok(Math.abs(full.spearman) < 0.05 && Math.abs(full.neighbours - 1) < 0.2, `full: ${JSON.stringify(full)}`);
  // A buffer of a tenth of the rows: places as random as a full shuffle's; file neighbours share a batch ~n/(2 * buffer) times as often.
  assert.ok(Math.abs(small.spearman) < 0.1 && Math.abs(small.displacement - 1 / 3) < 0.03 && small.neighbours < 8, `buffer of 10%: ${JSON.stringify(small)}`);
  assert.ok(none.spearman > 0.99, `no buffer, one block: ${JSON.stringify(none)}`);
});

test('a streamed run interrupted mid-epoch and resumed ends exactly like one that ran straight through', async () => {
  const config = path.join(repoRoot, 'configs', 'penguins.yaml');
  const set = ['data.streaming=true', 'data.memory_budget=16KB', 'data.shuffle_buffer=60'];
  const { log } = await assertResumeExact(config, set, 3, { epoch: 2, step: 3 });
  assert.match(log, /data: streaming from disk/);
});

test('a file larger than data.memory_budget streams by itself, with a line saying so', async () => {
  const rows = Array.from({ length: 400 }, (_, i) => `${i % 3 ? 'a' : 'b'},${(i * 0.37) % 5},${i % 7}`);
  const file = path.join(dir, 'big.csv');
  writeFileSync(file, `kind,x,y\n${rows.join('\n')}\n`);
  const data = await loadData(configFrom(`data: {format: csv, path: ${file}, memory_budget: 2KB}\nmodel: {backbone: {type: mlp}}\ntasks:\n  kind: {type: classification, target: kind}`));
  assert.ok(data.train.stream);
  assert.match(data.notes[0], /the data files hold .* more than data\.memory_budget .*: streaming them from disk/);
  const small = await loadData(configFrom(`data: {format: csv, path: ${file}}\nmodel: {backbone: {type: mlp}}\ntasks:\n  kind: {type: classification, target: kind}`));
  assert.ok(!small.train.stream);
});

test('streamed images: decoded once into the disk cache, read back from it every epoch, the same pixels as in memory', async () => {
  const { PNG } = await import('pngjs');
  const images = path.join(dir, 'img');
  mkdirSync(images, { recursive: true });
  const lines = ['image,kind'];
  for (let i = 0; i < 40; i++) {
    const png = new PNG({ width: 6, height: 5 });
    for (let p = 0; p < png.data.length; p++) png.data[p] = (i * 37 + p * 11) % 256;
    writeFileSync(path.join(images, `${i}.png`), PNG.sync.write(png));
    lines.push(`img/${i}.png,${i % 2 ? 'odd' : 'even'}`);
  }
  const file = path.join(dir, 'images.csv');
  writeFileSync(file, lines.join('\n') + '\n');
  const config = (extra: string) => configFrom(`data: {format: csv, path: ${file}, inputs: [{name: image, type: image, channels: 1}]${extra}}\nmodel: {backbone: {type: resnet, filters: [4], blocks: [1]}}\ntasks:\n  kind: {type: classification, target: kind}`);
  const whole = await loadData(config(''));
  const streamed = await loadData(config(', streaming: true, memory_budget: 8KB'));
  assert.ok(streamed.notes.some((n) => /decoded images are kept on disk/.test(n)), streamed.notes.join('\n'));
  const pixels = (split: Split) => {
    const out = new Map<number, number[]>();
    const size = 6 * 5;
    split.rows.forEach((line, i) => out.set(line, Array.from(split.inputs[0].values.subarray(i * size, (i + 1) * size))));
    return out;
  };
  const expected = pixels(whole.train);
  for (let epoch = 1; epoch <= 2; epoch++) {
    const stream = streamed.train.stream!.epoch!(epoch, 8, 0);
    for (let b = stream.next(); b; b = stream.next()) for (const [line, values] of pixels(b)) assert.deepEqual(values, expected.get(line), `epoch ${epoch}, line ${line}`);
  }
  const stats = pixelCacheStats()!;
  // Every train, val and test image once: 40 images of 6 x 5 x 1 float32 values.
  assert.ok(stats.images <= 40 && stats.images >= whole.train.size, JSON.stringify(stats));
  assert.equal(stats.bytes, stats.images * 6 * 5 * 4);
});
