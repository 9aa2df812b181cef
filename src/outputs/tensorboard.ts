/**
 * TensorBoard event files without TensorFlow, laid out as Keras's TensorBoard callback
 * writes them: the log folder holds a `train/` and a `validation/` run (and `test/`) whose
 * scalars share tags, so TensorBoard draws a metric's train and validation curves on one
 * chart. The folder itself is the hparams plugin's session: the run's hyperparameters
 * (session start), and once it ends its status and an experiment naming the metrics that the
 * hparams table shows.
 *
 * An events.out.tfevents.* file is a TFRecord stream (length, masked CRC-32C of the length,
 * data, masked CRC-32C of the data) of serialized `Event` protos (tensorboard/compat/proto/
 * event.proto, summary.proto; tensorboard/plugins/hparams/plugin_data.proto, api.proto),
 * encoded here by hand. Records are appended and fsynced, so a crash leaves at most a
 * partial last record, which TensorBoard skips.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Config } from '../config/schema';

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC32C_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masking, so CRCs of data that holds CRCs stay strong. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

export function tfRecord(data: Uint8Array): Buffer {
  const header = Buffer.alloc(12);
  header.writeBigUInt64LE(BigInt(data.length));
  header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(4);
  footer.writeUInt32LE(maskedCrc32c(data));
  return Buffer.concat([header, data, footer]);
}

/** Protobuf wire format: fields appended in the order written (the caller leaves out proto3 defaults). */
class ProtoMessage {
  private readonly chunks: Uint8Array[] = [];

  private key(field: number, wireType: number): void {
    this.chunks.push(varint((field << 3) | wireType));
  }

  varint(field: number, value: number): this {
    this.key(field, 0);
    this.chunks.push(varint(value));
    return this;
  }

  double(field: number, value: number): this {
    this.key(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    this.chunks.push(b);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, 5);
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.chunks.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.chunks.push(varint(value.length), value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, value: ProtoMessage): this {
    return this.bytes(field, value.finish());
  }

  finish(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}

function varint(value: number): Uint8Array {
  const out: number[] = [];
  let v = BigInt(value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Uint8Array.from(out);
}

// Event { wall_time = 1; step = 2; oneof what { file_version = 3; summary = 5; session_log = 7 } }
function event(wallTime: number, step: number): ProtoMessage {
  return new ProtoMessage().double(1, wallTime).varint(2, step);
}

const SESSION_LOG_START = 1;

// Summary { repeated Value value = 1 }; Value { tag = 1; simple_value = 2; tensor = 8; metadata = 9 }
function scalarsSummary(scalars: [string, number][]): ProtoMessage {
  const summary = new ProtoMessage();
  for (const [tag, value] of scalars) summary.message(1, new ProtoMessage().string(1, tag).float(2, value));
  return summary;
}

// ------------------------------------------------------------------ hparams plugin

/** tensorboard/plugins/hparams/metadata.py */
const HPARAMS_PLUGIN = 'hparams';
const HPARAMS_TAGS = { experiment: '_hparams_/experiment', sessionStart: '_hparams_/session_start_info', sessionEnd: '_hparams_/session_end_info' };
/** api.proto: Status, DataType, DatasetType. */
export const SESSION_STATUS = { success: 1, failure: 2 } as const;
const DATA_TYPE = { string: 1, boolean: 2, number: 3 } as const;
const DATASET_TYPE: Record<RunName, number> = { train: 1, validation: 2, test: 0 };

export type HparamValue = string | number | boolean;

/** google.protobuf.Value { number_value = 2; string_value = 3; bool_value = 4 } (a oneof: zero values are written). */
function protobufValue(value: HparamValue): ProtoMessage {
  const m = new ProtoMessage();
  if (typeof value === 'number') return m.double(2, value);
  if (typeof value === 'string') return m.string(3, value);
  return m.varint(4, value ? 1 : 0);
}

/**
 * One Summary.Value with the hparams plugin's metadata, as summary.py's `_summary`:
 * SummaryMetadata { plugin_data = 1 { plugin_name = 1; content = 2 } } where content is an
 * HParamsPluginData { version = 1 (0); experiment = 2 | session_start_info = 3 | session_end_info = 4 },
 * and a null tensor: TensorProto { dtype = 1 (DT_FLOAT); tensor_shape = 2 { dim = 2 { size = 1 (0) } } }.
 */
function hparamsSummary(tag: string, dataField: 2 | 3 | 4, data: ProtoMessage): ProtoMessage {
  const content = new ProtoMessage().message(dataField, data);
  const metadata = new ProtoMessage().message(1, new ProtoMessage().string(1, HPARAMS_PLUGIN).message(2, content));
  const nullTensor = new ProtoMessage().varint(1, 1).message(2, new ProtoMessage().message(2, new ProtoMessage()));
  return new ProtoMessage().message(1, new ProtoMessage().string(1, tag).message(8, nullTensor).message(9, metadata));
}

// SessionStartInfo { map<string, Value> hparams = 1; model_uri = 2; start_time_secs = 5 }
function sessionStartInfo(hparams: Record<string, HparamValue>, modelUri: string, startTime: number): ProtoMessage {
  const info = new ProtoMessage();
  for (const [name, value] of Object.entries(hparams)) info.message(1, new ProtoMessage().string(1, name).message(2, protobufValue(value)));
  return info.string(2, modelUri).double(5, startTime);
}

/**
 * Experiment { description = 1; time_created_secs = 3; repeated HParamInfo hparam_infos = 4;
 * repeated MetricInfo metric_infos = 5 }; HParamInfo { name = 1; type = 4 };
 * MetricInfo { name = 1 { group = 1; tag = 2 }; dataset_type = 5 }. No hparam domains: under a
 * logdir above several runs TensorBoard shows any one run's experiment, and a domain of that
 * run's values alone would filter the other runs out of the table.
 */
function experiment(hparams: Record<string, HparamValue>, metrics: { run: RunName; tag: string }[], created: number): ProtoMessage {
  const m = new ProtoMessage().string(1, EXPERIMENT_DESCRIPTION).double(3, created);
  for (const [name, value] of Object.entries(hparams)) m.message(4, new ProtoMessage().string(1, name).varint(4, DATA_TYPE[typeof value as keyof typeof DATA_TYPE]));
  for (const { run, tag } of metrics) {
    const info = new ProtoMessage().message(1, new ProtoMessage().string(1, run).string(2, tag));
    if (DATASET_TYPE[run]) info.varint(5, DATASET_TYPE[run]);
    m.message(5, info);
  }
  return m;
}

const EXPERIMENT_DESCRIPTION =
  'mtl run: hyperparameters from its config; metrics: the last epoch of the train and validation runs, best/<monitor> at the best epoch, and the test scores of checkpoints/best';

/**
 * The hparams of a run: the same names for every config, so the hparams table lines up runs of
 * other sharing, weighting or backbone choices; a choice with options reads `type(option=value, ...)`.
 */
export function configHparams(config: Config): Record<string, HparamValue> {
  const { training, model } = config;
  const { learning_rate, ...optimizer } = training.optimizer;
  return {
    backbone: describeChoice(model.backbone),
    sharing: describeChoice(model.sharing),
    head: describeOptions(model.head),
    weighting: describeChoice(training.weighting),
    optimizer: describeChoice(optimizer),
    learning_rate,
    lr_schedule: describeChoice(training.lr_schedule),
    batch_size: training.batch_size,
    epochs: training.epochs,
    early_stopping: training.early_stopping ? describeOptions(training.early_stopping) : 'off',
    seed: config.seed,
    tasks: Object.entries(config.tasks).map(([name, task]) => `${name}:${task.type}`).join(', '),
  };
}

function describeChoice({ type, ...options }: { type: string }): string {
  const described = describeOptions(options);
  return described ? `${type}(${described})` : type;
}

function describeOptions(options: object): string {
  return Object.entries(options)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

// ------------------------------------------------------------------ runs and tags

export type RunName = 'train' | 'validation' | 'test';

/** metrics.csv's key prefixes and the runs they go to; every other key (lr, weight/<task>, grad_cos/<a>~<b>, time_s) goes to train, as Keras logs the learning rate there. */
const RUN_OF_PREFIX: Record<string, RunName> = { train: 'train', val: 'validation', test: 'test' };

/**
 * Where a metrics key goes: `train/X`, `val/X` and `test/X` to the run's tag X, so the same
 * metric has the same tag in every run (`val/species/accuracy` -> validation, `species/accuracy`).
 * No `epoch_` prefix: Keras adds it to tell epoch from batch scalars, and mtl logs only epochs.
 * A key outside the prefixes keeps its name in train; should a task's name make a stripped train
 * tag equal one of those names, that train tag keeps its prefix.
 */
export function tensorboardTags(keys: Iterable<string>): Map<string, { run: RunName; tag: string }> {
  const all = [...keys];
  const unprefixed = new Set(all.filter((k) => !(k.split('/')[0] in RUN_OF_PREFIX)));
  const out = new Map<string, { run: RunName; tag: string }>();
  for (const key of all) {
    const slash = key.indexOf('/');
    const run = slash > 0 ? RUN_OF_PREFIX[key.slice(0, slash)] : undefined;
    if (!run) out.set(key, { run: 'train', tag: key });
    else out.set(key, { run, tag: run === 'train' && unprefixed.has(key.slice(slash + 1)) ? key : key.slice(slash + 1) });
  }
  return out;
}

/** The metrics of the hparams table: everything in the train/, val/ and test/ runs but the train run's extras (lr, weights, ...). */
function hparamsMetrics(keys: Iterable<string>): { run: RunName; tag: string }[] {
  return [...tensorboardTags(keys)].filter(([key, { run }]) => run !== 'train' || key.startsWith('train/')).map(([, t]) => t);
}

// ------------------------------------------------------------------ the writer

const SESSION = '';
let openedLogs = 0;
type LogRun = RunName | typeof SESSION;

/**
 * The TensorBoard log of one mtl run. Each process writes its own file in each run folder
 * (TensorBoard reads them in name order). A file starts with file_version and a SessionLog
 * START at the first step it writes: on a resumed run that makes TensorBoard drop what the
 * earlier process logged from that step on (the epoch it repeats after a crash), as
 * metrics.csv drops the row it rewrites.
 */
export class TensorBoardLog {
  private readonly files = new Map<LogRun, string>();
  /** A resumed run keeps the session start it wrote first (TensorBoard reads the first only). */
  private readonly sessionStarted: boolean;

  /** Tells apart the files of two logs opened by one process within a second (a run resumed in-process). */
  private readonly instance = openedLogs++;

  constructor(readonly dir: string) {
    this.sessionStarted = existsSync(dir) && readdirSync(dir).some((f) => f.startsWith('events.out.tfevents.'));
  }

  /** The run's hyperparameters; written once per log folder. */
  startSession(hparams: Record<string, HparamValue>, modelUri: string, startTime = Date.now() / 1000): void {
    if (this.sessionStarted) return;
    this.append(SESSION, 0, hparamsSummary(HPARAMS_TAGS.sessionStart, 3, sessionStartInfo(hparams, modelUri, startTime)));
  }

  /** One event per run holding the row's finite scalars, at `step` (the epoch). */
  writeScalars(step: number, row: Record<string, number>): void {
    const byRun = new Map<RunName, [string, number][]>();
    for (const [key, { run, tag }] of tensorboardTags(Object.keys(row))) {
      if (!Number.isFinite(row[key])) continue;
      if (!byRun.has(run)) byRun.set(run, []);
      byRun.get(run)!.push([tag, row[key]]);
    }
    for (const [run, scalars] of byRun) this.append(run, step, scalarsSummary(scalars));
  }

  /** The monitor's best value as `best/<tag>` in the monitor's run, at the best epoch. */
  writeBest(step: number, key: string, value: number): void {
    const { run, tag } = tensorboardTags([key]).get(key)!;
    if (Number.isFinite(value)) this.append(run, step, scalarsSummary([[`best/${tag}`, value]]));
  }

  /**
   * The session's end and the experiment: its hparams and, as the hparams table's metrics,
   * the tags of `metricKeys` (metrics.csv's keys and the test keys) plus the best monitor.
   * TensorBoard keeps the first end it reads: a failed run resumed to the end still shows failure.
   */
  endSession(status: keyof typeof SESSION_STATUS, hparams: Record<string, HparamValue>, metricKeys: string[], best?: string, now = Date.now() / 1000): void {
    const metrics = hparamsMetrics(metricKeys);
    if (best) {
      const { run, tag } = tensorboardTags([best]).get(best)!;
      metrics.push({ run, tag: `best/${tag}` });
    }
    const end = new ProtoMessage().varint(1, SESSION_STATUS[status]).double(2, now);
    this.append(SESSION, 0, hparamsSummary(HPARAMS_TAGS.sessionEnd, 4, end));
    if (metrics.length > 0) this.append(SESSION, 0, hparamsSummary(HPARAMS_TAGS.experiment, 2, experiment(hparams, metrics, now)));
  }

  /** Files written by this process, per run ('' is the session folder itself). */
  get written(): ReadonlyMap<LogRun, string> {
    return this.files;
  }

  /** Event { summary = 5 } at `step`, into this process's file of `run`. */
  private append(run: LogRun, step: number, summary: ProtoMessage): void {
    const now = Date.now() / 1000;
    const records: Buffer[] = [];
    let file = this.files.get(run);
    if (!file) {
      const dir = path.join(this.dir, run);
      mkdirSync(dir, { recursive: true });
      file = path.join(dir, `events.out.tfevents.${Math.floor(now)}.${hostname()}.${process.pid}.${this.instance}.mtl`);
      this.files.set(run, file);
      records.push(tfRecord(event(now, 0).string(3, 'brain.Event:2').finish()));
      if (run !== SESSION) records.push(tfRecord(event(now, step).message(7, new ProtoMessage().varint(1, SESSION_LOG_START)).finish()));
    }
    records.push(tfRecord(event(now, step).message(5, summary).finish()));
    const fd = openSync(file, 'a');
    try {
      for (const r of records) writeSync(fd, r);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
