import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { initBackend } from '../../src/backends';
import { trainCommand } from '../../src/api/train';
import { loadData } from '../../src/data/load';
import { shuffleCloseness } from '../../src/data/stream';
import type { LoadedData, Split } from '../../src/data/types';
import { silentProgress } from '../../src/training/progress';
import { configFrom } from '../helpers/config';
import { captureOutput } from '../helpers/output';
import { flatFeatures } from '../helpers/features';
import { assertResumeExact, checkpointWeights, maxAbsDiff } from '../helpers/run';
import { repoRoot, tempDir } from '../helpers/tmp';

const penguins = path.join(repoRoot, 'datasets', 'penguins', 'penguins.csv');
const dir = tempDir();

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

type Cell = string | number | null;
type ColumnOptions = { offsetIndex?: boolean };

type Writer = typeof import('hyparquet-writer', { with: { 'resolution-mode': 'import' } });
type WriteOptions = Parameters<Writer['parquetWriteBuffer']>[0];

async function writeParquet(file: string, columns: { name: string; data: Cell[] | Cell[][]; type?: 'STRING' | 'DOUBLE'; options?: ColumnOptions }[], rowGroupSize: number, schema?: WriteOptions['schema']) {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  // Pages of a few hundred bytes: every row group has several per column, so a block reads only some.
  const bytes = parquetWriteBuffer({ columnData: columns.map((c) => ({ name: c.name, data: c.data, ...(c.type ? { type: c.type } : {}), ...c.options })), rowGroupSize, pageSize: 256, ...(schema ? { schema } : {}) });
  writeFileSync(file, Buffer.from(bytes));
}

/** penguins.csv as Parquet: NA as null, row groups of 128 rows (two streamed blocks of 64 each); half the columns without an offset index (their pages found from the page headers). */
async function penguinsParquet(): Promise<string> {
  const [head, ...lines] = readFileSync(penguins, 'utf8').trim().split('\n');
  const names = head.split(',');
  const rows = lines.map((l) => l.split(','));
  const file = path.join(dir, 'penguins.parquet');
  await writeParquet(
    file,
    names.map((name, c) => {
      const text = rows.map((r) => (r[c] === 'NA' ? null : r[c]));
      const numeric = text.every((v) => v === null || !Number.isNaN(Number(v)));
      return { name, data: numeric ? text.map((v) => (v === null ? null : Number(v))) : text, type: numeric ? ('DOUBLE' as const) : ('STRING' as const), options: { offsetIndex: c % 2 === 0 } };
    }),
    128,
  );
  return file;
}

const streamedData = ', streaming: true, memory_budget: 16KB, shuffle_buffer: 60';
const penguinConfig = (data: string) =>
  configFrom(`data: {${data}, features: [island, bill_length_mm, bill_depth_mm, flipper_length_mm, sex], missing: impute}
model: {backbone: {type: mlp}}
tasks:
  species: {type: classification, target: species}
  mass: {type: regression, target: body_mass_g}
`);

/** Each row's encoded features and targets by its line. */
function byLine(split: Split): Map<number, number[]> {
  const columns = [flatFeatures(split), ...Object.values(split.targets)];
  const out = new Map<number, number[]>();
  split.rows.forEach((line, i) =>
    out.set(
      line,
      columns.flatMap((c) => {
        const width = c.length / split.size;
        return [...c.subarray(i * width, (i + 1) * width)];
      }),
    ),
  );
  return out;
}

function sameValues(got: Map<number, number[]>, want: Map<number, number[]>, what: string): void {
  for (const [line, values] of got) {
    const expected = want.get(line)!;
    assert.ok(values.length === expected.length && values.every((v, k) => Math.abs(v - expected[k]) <= 1e-5 || (Number.isNaN(v) && Number.isNaN(expected[k]))), `${what}, row ${line}: ${values} against ${expected}`);
  }
}

function epochBatches(data: LoadedData, epoch: number, batch = 32): Split[] {
  const stream = data.train.stream!.epoch!(epoch, batch, 0);
  const out: Split[] = [];
  for (let b = stream.next(); b; b = stream.next()) out.push(b);
  return out;
}

test('streamed Parquet: the split and preprocessing of the whole load, every train row once an epoch with its values, in the order of the streamed CSV', async () => {
  const file = await penguinsParquet();
  const whole = await loadData(penguinConfig(`format: parquet, path: ${file}`));
  const streamed = await loadData(penguinConfig(`format: parquet, path: ${file}${streamedData}`));
  const csv = await loadData(penguinConfig(`format: csv, path: ${penguins}${streamedData}`));
  assert.ok(streamed.train.stream && !whole.train.stream);
  assert.match(streamed.notes[0], /data: streaming from disk \(data\.streaming: true\)/);
  for (const part of ['train', 'val', 'test'] as const) assert.equal(streamed[part].size, whole[part].size, part);
  assert.deepEqual(streamed.preprocessing.targets.species, whole.preprocessing.targets.species);
  assert.deepEqual(streamed.preprocessing.inputs, csv.preprocessing.inputs, 'the same fit as the streamed CSV');
  whole.preprocessing.inputs.forEach((input, i) => {
    const a = input.state as Record<string, unknown>;
    const b = streamed.preprocessing.inputs[i].state as Record<string, unknown>;
    for (const [k, v] of Object.entries(a)) {
      if (typeof v === 'number') assert.ok(Math.abs(v - (b[k] as number)) <= 1e-9 * Math.max(1, Math.abs(v)), `${input.name}.${k}`);
      else assert.deepEqual(b[k], v);
    }
  });
  const expected = byLine(whole.train);
  const seen: number[] = [];
  for (let epoch = 1; epoch <= 2; epoch++) {
    const batches = epochBatches(streamed, epoch);
    const lines = batches.flatMap((b) => [...b.rows]);
    assert.deepEqual([...lines].sort((x, y) => x - y), [...whole.train.rows].sort((x, y) => x - y), `epoch ${epoch}: every train row once`);
    for (const batch of batches) sameValues(byLine(batch), expected, `epoch ${epoch}`);
    // Parquet rows are numbered from 1, CSV lines from 2 (the header): the same rows in the same order.
    assert.deepEqual(
      lines,
      epochBatches(csv, epoch).flatMap((b) => [...b.rows].map((l) => l - 1)),
      `epoch ${epoch}: the streamed CSV's order`,
    );
    seen.push(...lines);
  }
  assert.notDeepEqual(seen.slice(0, whole.train.size), seen.slice(whole.train.size), 'each epoch its own order');
  let n = 0;
  const testRows = byLine(whole.test);
  for (const chunk of streamed.test.stream!.chunks()) {
    n += chunk.size;
    sameValues(byLine(chunk), testRows, 'test');
  }
  assert.equal(n, whole.test.size);
});

test('streamed Parquet with a budget that holds a row group decoded: the blocks of a row group read one after another, every row once with its values', async () => {
  const file = await penguinsParquet();
  const whole = await loadData(penguinConfig(`format: parquet, path: ${file}`));
  const streamed = await loadData(penguinConfig(`format: parquet, path: ${file}, streaming: true, memory_budget: 256KB, shuffle_buffer: 60`));
  const expected = byLine(whole.train);
  for (let epoch = 1; epoch <= 2; epoch++) {
    const batches = epochBatches(streamed, epoch);
    assert.deepEqual(batches.flatMap((b) => [...b.rows]).sort((x, y) => x - y), [...whole.train.rows].sort((x, y) => x - y), `epoch ${epoch}: every train row once`);
    for (const batch of batches) sameValues(byLine(batch), expected, `epoch ${epoch}`);
  }
});

test('spans of blocks read together still shuffle: over seeds, places as spread as a full shuffle and neighbours as often together as with single blocks', () => {
  const seeds = Array.from({ length: 10 }, (_, i) => i + 1);
  const spans = seeds.map((seed) => shuffleCloseness(20000, 2000, 250, seed, 256, 8));
  const blocks = seeds.map((seed) => shuffleCloseness(20000, 2000, 250, seed, 256, 1));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const figures = JSON.stringify({ spans, blocks });
  assert.ok(Math.abs(mean(spans.map((r) => r.spearman))) < 0.15 && Math.abs(mean(spans.map((r) => r.displacement)) - 1 / 3) < 0.05, figures);
  // Ten spans: the epoch's coarse order is a permutation of ten, so Spearman's rho spreads as about 1/sqrt(10).
  assert.ok(Math.sqrt(mean(spans.map((r) => r.spearman ** 2))) < 0.45, figures);
  assert.ok(Math.abs(mean(spans.map((r) => r.neighbours)) - mean(blocks.map((r) => r.neighbours))) < 0.5, figures);
});

test('a streamed Parquet run trains as the streamed CSV does, and resumed mid-epoch ends exactly like a run straight through', async () => {
  const file = await penguinsParquet();
  const config = path.join(repoRoot, 'configs', 'penguins.yaml');
  const streaming = ['data.streaming=true', 'data.memory_budget=16KB', 'data.shuffle_buffer=60'];
  const set = [`data.path=${file}`, 'data.format=parquet', ...streaming];
  const epochs = 3;
  const fromCsv = path.join(tempDir(), 'csv');
  await trainCommand({ config, out: fromCsv, epochs, set: streaming }, captureOutput(), silentProgress);
  const { log, straight } = await assertResumeExact(config, set, epochs, { epoch: 2, step: 3 });
  assert.match(log, /data: streaming from disk/);
  assert.ok(maxAbsDiff(checkpointWeights(straight), checkpointWeights(fromCsv)) <= 1e-5, 'the same batches as the streamed CSV');
});

test('streamed Parquet: a list column (multilabel) and a file larger than the budget streaming by itself', async () => {
  const n = 150;
  const file = path.join(dir, 'tags.parquet');
  // A nested column: read whole for each block (it has no offset index), cut to the block's rows.
  const schema: WriteOptions['schema'] = [
    { name: 'root', num_children: 3 },
    { name: 'a', repetition_type: 'OPTIONAL', type: 'DOUBLE' },
    { name: 'b', repetition_type: 'REQUIRED', type: 'BYTE_ARRAY', converted_type: 'UTF8' },
    { name: 'tags', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', repetition_type: 'REQUIRED', type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  ];
  await writeParquet(
    file,
    [
      { name: 'a', data: Array.from({ length: n }, (_, i) => (i % 13 === 4 ? null : (i * 0.37) % 5)), options: { offsetIndex: false } },
      { name: 'b', data: Array.from({ length: n }, (_, i) => `c${i % 4}`) },
      { name: 'tags', data: Array.from({ length: n }, (_, i) => ['x', 'y', 'z'].filter((_, k) => ((i * 5) >> k) & 1)), options: { offsetIndex: false } },
    ],
    50,
    schema,
  );
  const config = (data: string) => configFrom(`data: {format: parquet, path: ${file}, missing: impute${data}}\nmodel: {backbone: {type: mlp}}\ntasks:\n  tags: {type: multilabel, target: tags}`);
  const whole = await loadData(config(''));
  const streamed = await loadData(config(', memory_budget: 1KB'));
  assert.ok(streamed.train.stream && !whole.train.stream, 'larger than the budget: streamed');
  assert.match(streamed.notes[0], /the data files hold .* more than data\.memory_budget .*: streaming them from disk/);
  assert.deepEqual(streamed.preprocessing.targets, whole.preprocessing.targets);
  const batches = epochBatches(streamed, 1, 16);
  assert.deepEqual(batches.flatMap((b) => [...b.rows]).sort((x, y) => x - y), [...whole.train.rows].sort((x, y) => x - y));
  const expected = byLine(whole.train);
  for (const batch of batches) sameValues(byLine(batch), expected, 'epoch 1');
});
