/**
 * eval --data and predict on images larger than the run's data.memory_budget decoded (an
 * image folder, a CSV of image paths, IDX images) read them a block of rows at a time:
 * the same predictions, metrics and errors as reading them whole.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { evalCommand, type EvalArgs } from '../../src/api/eval';
import { predictCommand } from '../../src/api/predict';
import { trainCommand } from '../../src/api/train';
import { encodePng } from '../../src/data/image-files';
import { loadWithPreprocessing, openNewFileBlocks } from '../../src/data/load';
import { makeShapes, SHAPE_CLASSES, writeShapesDataset } from '../../src/data/synthetic';
import type { Preprocessing } from '../../src/data/types';
import type { CheckpointMeta } from '../../src/outputs/checkpoint-meta';
import { readCheckpointMeta } from '../../src/outputs/checkpoint';
import { resolveCheckpoint } from '../../src/outputs/run-dir';
import { silentProgress } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { tempDir, writeFile } from '../helpers/tmp';

const dir = tempDir();
const model = 'model: {backbone: {type: resnet, filters: [4], blocks: [1]}}';
const training = 'training: {epochs: 1, batch_size: 32, diagnostics: {enabled: false}}';
/** 16 KB: the 160 images below take 64 KB decoded (10 x 10 float32 each), the 150 IDX ones 38 KB; blocks are 64 rows. */
const budget = 'memory_budget: 16KB, streaming: false';
let folder = '';
let pathsCsv = '';
let folderRun = '';
let idx: ReturnType<typeof writeShapesDataset>;
let idxRun = '';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
  // root/<class>/<i>.png, and a CSV of their paths (a table run whose input and target an image folder's table carries).
  folder = path.join(dir, 'shapes');
  const shapes = makeShapes({ n: 160, size: 10, seed: 4 });
  const lines = ['image,class'];
  for (let i = 0; i < 160; i++) {
    const file = path.join(folder, SHAPE_CLASSES[shapes.labels[i]], `${i}.png`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, encodePng(shapes.images.subarray(i * 100, (i + 1) * 100), 10, 10, 1));
    lines.push(`${file},${SHAPE_CLASSES[shapes.labels[i]]}`);
  }
  pathsCsv = writeFile(dir, 'paths.csv', lines.join('\n') + '\n');
  folderRun = path.join(dir, 'folder-run');
  const folderConfig = writeFile(dir, 'folder.yaml', `data: {format: csv, path: ${pathsCsv}, inputs: [{name: image, type: image}], ${budget}}\n${model}\ntasks:\n  shape: {type: classification, target: class}\n${training}\n`);
  await trainCommand({ config: folderConfig, out: folderRun, threads: 1 }, captureOutput(), silentProgress);

  idx = writeShapesDataset(path.join(dir, 'idx'), { n: 150, size: 8, seed: 1 });
  idxRun = path.join(dir, 'idx-run');
  const idxConfig = writeFile(
    dir,
    'idx.yaml',
    `data: {format: idx, images: ${idx.images}, targets: {label: ${idx.labels}, scale: ${idx.scale}}, rotation: {target: angle, max_degrees: 30}, ${budget}}\n${model}\ntasks:\n  shape: {type: classification, target: label}\n  size: {type: regression, target: scale}\n  angle: {type: regression, target: angle}\n${training}\n`,
  );
  await trainCommand({ config: idxConfig, out: idxRun, threads: 1 }, captureOutput(), silentProgress);
});

/** predict read block by block (streaming unset) and whole (false): the same output file, rows and warnings. */
async function predictBoth(run: string, data: string, note: RegExp): Promise<{ text: string; warnings: string }> {
  const got: { text: string; warnings: string }[] = [];
  for (const streaming of [undefined, false]) {
    const out = path.join(dir, `preds-${Math.random().toString(36).slice(2)}.jsonl`);
    const log = captureOutput();
    const warnings = captureOutput();
    const result = await predictCommand({ location: run, data, out, streaming, threads: 1 }, log, warnings);
    assert.equal(result.streamed, streaming === undefined, log.text());
    if (streaming === undefined) assert.match(log.text(), note);
    else assert.doesNotMatch(log.text(), /block by block/);
    got.push({ text: readFileSync(out, 'utf8'), warnings: warnings.text() });
  }
  assert.ok(got[0].text.length > 0);
  assert.equal(got[0].text, got[1].text, 'the same predictions block by block as whole');
  assert.equal(got[0].warnings, got[1].warnings);
  return got[0];
}

/**
 * eval --data read block by block and whole: the same samples and metrics (computed from
 * the outputs, which are the same), and the same losses but for float32 rounding (each is
 * summed a batch at a time, and a block ends a batch).
 */
async function evalBoth(args: EvalArgs, note: RegExp): Promise<void> {
  const log = captureOutput();
  const streamed = await evalCommand({ ...args, threads: 1 }, log);
  assert.match(log.text(), note);
  const whole = await evalCommand({ ...args, threads: 1, streaming: false }, captureOutput());
  assert.ok(streamed.samples > 0);
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-6 * Math.abs(b), `${what}: ${a} vs ${b}`);
  close(streamed.loss, whole.loss, 'loss');
  for (const [task, t] of Object.entries(whole.tasks)) {
    close(streamed.tasks[task].loss, t.loss, `${task} loss`);
    assert.deepEqual({ ...streamed.tasks[task], loss: t.loss }, t, task);
  }
  assert.deepEqual({ ...streamed, loss: whole.loss, tasks: whole.tasks }, whole);
}

test('an image folder whose images exceed the budget decoded is predicted and evaluated block by block, as read whole', async () => {
  const note = /shapes holds 160 images of 10x10x1 pixels, 62\.5 KB with the images decoded to float32, more than data\.memory_budget \(16\.0 KB\): reading it block by block/;
  const { text } = await predictBoth(folderRun, folder, note);
  const rows = text.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(
    rows.map((r) => r.row),
    rows.map((_, i) => i + 1),
    'every file once, numbered as read whole',
  );
  await evalBoth({ location: folderRun, data: folder }, note);
});

test('a CSV of image paths smaller than the budget but not its decoded images is read block by block', async () => {
  const note = /paths\.csv holds .* and about \d+ images of 10x10x1 pixels, .* with the images decoded to float32, more than data\.memory_budget \(16\.0 KB\): reading it block by block/;
  await predictBoth(folderRun, pathsCsv, note);
  await evalBoth({ location: folderRun, data: pathsCsv }, note);
});

test('--streaming forces a small folder block by block', async () => {
  const small = path.join(dir, 'small');
  mkdirSync(small);
  for (const file of readdirSync(path.join(folder, 'disc')).slice(0, 2)) copyFileSync(path.join(folder, 'disc', file), path.join(small, file));
  const log = captureOutput();
  const result = await predictCommand({ location: folderRun, data: small, streaming: true, threads: 1 }, log, captureOutput());
  assert.ok(result.streamed);
  assert.match(log.text(), /data: reading .*small block by block, within a memory budget of 16\.0 KB/);
  assert.equal(result.counts.scored, 2);
});

test('an unreadable image in a folder read block by block is reported as reading it whole reports it', async () => {
  const bad = path.join(dir, 'bad');
  for (const cls of readdirSync(folder)) {
    mkdirSync(path.join(bad, cls), { recursive: true });
    for (const file of readdirSync(path.join(folder, cls))) copyFileSync(path.join(folder, cls, file), path.join(bad, cls, file));
  }
  // Sorted after cross/ and disc/: in the second block of 64 files.
  writeFileSync(path.join(bad, 'square', 'broken.png'), 'not a png');
  const { warnings } = await predictBoth(folderRun, bad, /bad holds 161 images .* reading it block by block/);
  assert.match(warnings, /1 row could not be scored[\s\S]*broken\.png/);
  const failure = async (streaming?: boolean) => {
    try {
      await evalCommand({ location: folderRun, data: bad, streaming, threads: 1 }, captureOutput());
    } catch (e) {
      return (e as Error).message;
    }
    assert.fail('eval should refuse an unreadable image');
  };
  const whole = await failure(false);
  assert.match(whole, /bad:\d+: column "image" the image .*broken\.png cannot be decoded/);
  assert.ok(Number(/bad:(\d+):/.exec(whole)![1]) > 64, whole);
  assert.equal(await failure(undefined), whole);
});

test('IDX images whose decoded size exceeds the budget are predicted and evaluated block by block (rotated as read whole)', async () => {
  const note = /images-idx3-ubyte\.gz holds .* and 150 images of 8x8 pixels, .* with the images decoded to float32, more than data\.memory_budget \(16\.0 KB\): reading it block by block/;
  await predictBoth(idxRun, idx.images, note);
  await evalBoth({ location: idxRun, data: idx.images, target: [`label=${idx.labels}`, `scale=${idx.scale}`] }, note);

  // The blocks hold the whole read's pixels (rotated by the same angles), targets and image numbers.
  const meta = readCheckpointMeta<CheckpointMeta>(resolveCheckpoint(idxRun).checkpoint);
  const pre: Preprocessing = meta.preprocessing;
  const source = { images: idx.images, targets: { label: idx.labels, scale: idx.scale } };
  const options = { requireTargets: true, strict: true };
  const whole = (await loadWithPreprocessing(pre, meta.config.tasks, source, options)).split;
  const blocks = [...(await openNewFileBlocks(pre, meta.config.tasks, source, 16 * 1024, options)).blocks()].map((b) => b.split);
  assert.equal(blocks.length, 3);
  const joined = <T extends Float32Array | Int32Array>(parts: T[]) => parts.flatMap((p) => [...p]);
  assert.deepEqual(joined(blocks.map((b) => b.rows)), [...whole.rows]);
  assert.deepEqual(joined(blocks.map((b) => b.inputs[0].values)), [...whole.inputs[0].values]);
  for (const name of Object.keys(whole.targets)) assert.deepEqual(joined(blocks.map((b) => b.targets[name])), [...whole.targets[name]], name);
});
