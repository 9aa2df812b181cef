import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as protobuf from 'protobufjs';
import * as CRC32C from 'crc-32/crc32c';
import { parse } from 'csv-parse/sync';
import { initBackend } from '../../src/backends';
import { trainCommand } from '../../src/api/train';
import { InterruptedError, UserError } from '../../src/errors';
import { crc32c, TensorBoardLog } from '../../src/outputs/tensorboard';
import type { StopSignal } from '../../src/training/loop';
import { silentProgress, type ProgressReporter } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { repoRoot, tempDir } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

const config = path.join(repoRoot, 'configs', 'penguins.yaml');

// ------------------------------------------------------------------ an independent reader

// TensorBoard's own .proto files (tensorboard-protos/README.md), decoded with protobufjs.
const protoDir = path.join(repoRoot, 'test', 'outputs', 'tensorboard-protos');
const protos = new protobuf.Root();
protos.resolvePath = (_origin, target) => path.join(protoDir, target);
protos.loadSync(['tensorboard/compat/proto/event.proto', 'tensorboard/plugins/hparams/plugin_data.proto']);
const EventType = protos.lookupType('tensorboard.Event');
const PluginDataType = protos.lookupType('tensorboard.hparams.HParamsPluginData');
const asObject = { longs: Number, enums: String, bytes: Buffer } as const;

interface Value {
  tag: string;
  simpleValue?: number;
  metadata?: { pluginData?: { pluginName: string; content: Buffer } };
  tensor?: { dtype: string; tensorShape?: { dim?: { size?: number }[] } };
}
interface Event {
  wallTime: number;
  step?: number;
  fileVersion?: string;
  sessionLog?: { status: string };
  summary?: { value: Value[] };
}

/** TFRecord's masked CRC-32C (tensorflow/core/lib/hash/crc32c.h), from the crc-32 package. */
function masked(bytes: Uint8Array): number {
  const crc = CRC32C.buf(bytes) >>> 0;
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

function readEventFile(file: string): Event[] {
  const bytes = readFileSync(file);
  const events: Event[] = [];
  for (let off = 0; off < bytes.length; ) {
    const length = Number(bytes.readBigUInt64LE(off));
    assert.equal(bytes.readUInt32LE(off + 8), masked(bytes.subarray(off, off + 8)), `${file}: length CRC at ${off}`);
    const data = bytes.subarray(off + 12, off + 12 + length);
    assert.equal(bytes.readUInt32LE(off + 12 + length), masked(data), `${file}: data CRC at ${off}`);
    events.push(EventType.toObject(EventType.decode(data), asObject) as Event);
    off += 16 + length;
  }
  return events;
}

/** A run folder's event files in TensorBoard's order (by name); each starts with file_version. */
function readRun(dir: string): Event[] {
  const files = readdirSync(dir).filter((f) => f.startsWith('events.out.tfevents.')).sort();
  assert.ok(files.length > 0, `${dir}: no event files`);
  return files.flatMap((f) => {
    const events = readEventFile(path.join(dir, f));
    assert.equal(events[0].fileVersion, 'brain.Event:2', f);
    return events;
  });
}

/**
 * Per tag, the [step, value] points TensorBoard keeps: as its event accumulator does, a
 * SessionLog START after the first drops every point at or after its step (a restart).
 */
function scalars(events: Event[]): Map<string, [number, number][]> {
  const points = new Map<string, [number, number][]>();
  let started = false;
  for (const e of events) {
    if (e.sessionLog?.status === 'START') {
      if (started) for (const [tag, list] of points) points.set(tag, list.filter(([step]) => step < (e.step ?? 0)));
      started = true;
    }
    for (const v of e.summary?.value ?? []) {
      if (v.simpleValue === undefined) continue;
      if (!points.has(v.tag)) points.set(v.tag, []);
      points.get(v.tag)!.push([e.step ?? 0, v.simpleValue]);
    }
  }
  return points;
}

/** The hparams plugin's summaries of the session folder, by tag (each must appear once). */
function hparamsData(events: Event[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const v of events.flatMap((e) => e.summary?.value ?? [])) {
    assert.equal(v.metadata?.pluginData?.pluginName, 'hparams', v.tag);
    assert.deepEqual(v.tensor, { dtype: 'DT_FLOAT', tensorShape: { dim: [{}] } }, `${v.tag}: the null tensor summary.py writes`);
    assert.ok(!(v.tag in out), `${v.tag} written twice`);
    out[v.tag] = PluginDataType.toObject(PluginDataType.decode(v.metadata!.pluginData!.content), asObject);
  }
  return out;
}

function metricsCsv(run: string): Record<string, string>[] {
  return parse(readFileSync(path.join(run, 'metrics.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
}

/** Every metrics.csv column is one tag of one run with one point per epoch, the column's value as a float32. */
function assertMatchesCsv(run: string, runs: Record<string, Map<string, [number, number][]>>): void {
  const rows = metricsCsv(run);
  const where = (key: string): [string, string] => {
    const [prefix, ...rest] = key.split('/');
    if (prefix === 'train') return ['train', rest.join('/')];
    if (prefix === 'val') return ['validation', rest.join('/')];
    return ['train', key];
  };
  for (const key of Object.keys(rows[0]).filter((k) => k !== 'epoch')) {
    const [runName, tag] = where(key);
    const expected = rows.filter((r) => r[key] !== '').map((r) => [Number(r.epoch), Math.fround(Number(r[key]))]);
    assert.deepEqual(runs[runName].get(tag), expected, `${key} -> ${runName}/${tag}`);
  }
}

// ------------------------------------------------------------------ tests

test('the CRC-32C of the writer matches the check value, and the crc-32 package the test reads with', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(CRC32C.buf(Buffer.from('123456789')) >>> 0, 0xe3069283);
});

test('--tensorboard: train and validation runs with the same tags, test scores, and the run in the hparams plugin', async () => {
  const run = path.join(tempDir(), 'run');
  const out = captureOutput();
  const summary = await trainCommand({ config, out: run, epochs: 3, tensorboard: true, report: true }, out, silentProgress);
  assert.ok(existsSync(path.join(run, 'report.html')));
  assert.ok(out.lines.includes(`tensorboard: tensorboard --logdir ${run}`), 'prints the command, with the run folder as the logdir');
  const log = path.join(run, 'tensorboard');
  assert.deepEqual(readdirSync(log, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort(), ['test', 'train', 'validation']);
  const runs = Object.fromEntries(['train', 'validation', 'test'].map((r) => [r, scalars(readRun(path.join(log, r)))]));

  assertMatchesCsv(run, runs);
  for (const tag of ['loss', 'species/loss', 'body_mass/loss']) {
    assert.deepEqual(runs.train.get(tag)!.map(([s]) => s), [1, 2, 3], `train ${tag}`);
    assert.deepEqual(runs.validation.get(tag)!.map(([s]) => s), [1, 2, 3], `validation ${tag}`);
  }
  for (const tag of ['lr', 'weight/species', 'grad_cos/species~body_mass', 'time_s']) {
    assert.ok(runs.train.has(tag) && !runs.validation.has(tag), `${tag} is in the train run only`);
  }
  assert.deepEqual(runs.validation.get('best/loss'), [[summary.best_epoch, Math.fround(summary.monitor.value)]]);
  // The test run: the scores of checkpoints/best (summary.json), at the best epoch.
  const testTags = [...runs.test.keys()].sort();
  assert.deepEqual(testTags, [...runs.validation.keys()].filter((t) => t !== 'best/loss').sort(), 'the test run has the validation tags');
  assert.deepEqual(runs.test.get('loss'), [[summary.best_epoch, Math.fround(summary.test!.loss)]]);
  assert.deepEqual(runs.test.get('species/accuracy'), [[summary.best_epoch, Math.fround(summary.test!.tasks.species.metrics.accuracy)]]);

  const hparams = hparamsData(readRun(log));
  assert.deepEqual(Object.keys(hparams).sort(), ['_hparams_/experiment', '_hparams_/session_end_info', '_hparams_/session_start_info']);
  const start = hparams['_hparams_/session_start_info'].sessionStartInfo as { hparams: Record<string, Record<string, unknown>>; modelUri: string };
  assert.deepEqual(start.hparams.sharing, { stringValue: 'hard' });
  assert.deepEqual(start.hparams.weighting, { stringValue: 'fixed' });
  assert.deepEqual(start.hparams.backbone, { stringValue: 'mlp(units=[64,64], activation=relu, dropout=0.1, batch_norm=false)' });
  assert.deepEqual(start.hparams.learning_rate, { numberValue: 0.005 });
  assert.deepEqual(start.hparams.batch_size, { numberValue: 32 });
  assert.deepEqual(start.hparams.epochs, { numberValue: 3 });
  assert.deepEqual(start.hparams.seed, { numberValue: 42 });
  assert.deepEqual(start.hparams.tasks, { stringValue: 'species:classification, body_mass:regression' });
  assert.equal(start.modelUri, path.join(run, 'checkpoints'));
  assert.equal((hparams['_hparams_/session_end_info'].sessionEndInfo as { status: string }).status, 'STATUS_SUCCESS');

  const experiment = hparams['_hparams_/experiment'].experiment as {
    hparamInfos: { name: string; type: string }[];
    metricInfos: { name: { group: string; tag: string }; datasetType?: string }[];
  };
  assert.deepEqual(experiment.hparamInfos.map((h) => h.name).sort(), Object.keys(start.hparams).sort());
  assert.equal(experiment.hparamInfos.find((h) => h.name === 'learning_rate')!.type, 'DATA_TYPE_FLOAT64');
  assert.equal(experiment.hparamInfos.find((h) => h.name === 'sharing')!.type, 'DATA_TYPE_STRING');
  const metricNames = experiment.metricInfos.map((m) => `${m.name.group}/${m.name.tag}`);
  for (const name of ['train/loss', 'validation/loss', 'validation/species/accuracy', 'validation/best/loss', 'test/loss', 'test/body_mass/mae']) {
    assert.ok(metricNames.includes(name), `hparams metric ${name}`);
  }
  assert.ok(!metricNames.includes('train/lr'), 'the learning rate is not a result');
  for (const m of experiment.metricInfos) assert.ok(runs[m.name.group]?.has(m.name.tag), `metric ${m.name.group}/${m.name.tag} has a scalar series`);
  assert.equal(experiment.metricInfos.find((m) => m.name.group === 'validation')!.datasetType, 'DATASET_VALIDATION');
});

test('a run interrupted mid-epoch and resumed logs each epoch once, and keeps its first session start', async () => {
  const run = path.join(tempDir(), 'run');
  const stop: StopSignal = { requested: false };
  let epoch = 0;
  const progress: ProgressReporter = { ...silentProgress, startEpoch: (e) => (epoch = e), step: (s) => void (epoch === 3 && s === 2 && (stop.requested = true)) };
  await assert.rejects(trainCommand({ config, out: run, epochs: 4, tensorboard: true }, captureOutput(), progress, stop), InterruptedError);
  const log = path.join(run, 'tensorboard');
  assert.deepEqual(Object.keys(hparamsData(readRun(log))), ['_hparams_/session_start_info'], 'an interrupted run has not ended');

  await trainCommand({ resume: run, tensorboard: true }, captureOutput(), silentProgress);
  assert.equal(readdirSync(path.join(log, 'train')).length, 2, 'one file per process');
  const runs = Object.fromEntries(['train', 'validation', 'test'].map((r) => [r, scalars(readRun(path.join(log, r)))]));
  assertMatchesCsv(run, runs);
  assert.deepEqual(runs.validation.get('loss')!.map(([s]) => s), [1, 2, 3, 4]);
  const hparams = hparamsData(readRun(log));
  assert.ok('_hparams_/session_start_info' in hparams && '_hparams_/experiment' in hparams);
  assert.equal((hparams['_hparams_/session_end_info'].sessionEndInfo as { status: string }).status, 'STATUS_SUCCESS');
});

test('an epoch logged again by a resumed process replaces the first one (SessionLog START)', () => {
  // What a crash between metrics.csv and checkpoints/last leaves: the resumed run repeats epoch 2.
  const dir = path.join(tempDir(), 'tensorboard');
  const first = new TensorBoardLog(dir);
  for (const epoch of [1, 2]) first.writeScalars(epoch, { 'train/loss': epoch, 'val/loss': 10 * epoch });
  const resumed = new TensorBoardLog(dir);
  for (const epoch of [2, 3]) resumed.writeScalars(epoch, { 'train/loss': 100 + epoch, 'val/loss': 1000 + epoch });
  assert.deepEqual(scalars(readRun(path.join(dir, 'train'))).get('loss'), [[1, 1], [2, 102], [3, 103]]);
  assert.deepEqual(scalars(readRun(path.join(dir, 'validation'))).get('loss'), [[1, 10], [2, 1002], [3, 1003]]);
});

test('a run that fails ends its hparams session with STATUS_FAILURE', async () => {
  const run = path.join(tempDir(), 'run');
  await assert.rejects(
    trainCommand({ config, out: run, epochs: 2, tensorboard: true, set: ['training.optimizer={type: sgd, learning_rate: 1000000}'] }, captureOutput(), silentProgress),
    (e) => e instanceof UserError && /training diverged/.test(e.message),
  );
  const hparams = hparamsData(readRun(path.join(run, 'tensorboard')));
  assert.equal((hparams['_hparams_/session_end_info'].sessionEndInfo as { status: string }).status, 'STATUS_FAILURE');
  assert.deepEqual((hparams['_hparams_/session_start_info'].sessionStartInfo as { hparams: Record<string, unknown> }).hparams.optimizer, { stringValue: 'sgd(momentum=0, nesterov=false)' });
});
