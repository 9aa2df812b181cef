/**
 * Image sets from IDX files: N x H x W (one channel) or N x H x W x C images, one
 * IDX file per target (labels or values), an optional derived rotation target.
 */
import { defaultImageEncoder, memoryBytes, type Config, type IdxDataConfig, type TaskConfig } from '../config/schema';
import type { ImageState } from '../inputs/image';
import { DataError } from '../errors';
import { MAX_ABS_VALUE } from './csv';
import { IdxFile, readIdx, type IdxArray, type IdxData, type IdxType } from './idx';
import { rotateImage, rotationAngle } from './rotation';
import { carveFractions, splitIndices } from './split';
import { classNames } from './tabular';
import { weightedClasses } from './labels';
import { checkClasses, classWeights } from './targets';
import { encodedRowBytes, mb, sizing, streamedSplit, type NewFileReader, type PartReader } from './stream';
import type { LoadedData, Preprocessing, Split, TargetTransform, UnscorableRow } from './types';

/** The name of the one input of IDX data. */
export const IDX_INPUT = 'image';

interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

/** The size and pixel scale other images must have, and what to call their source in messages. */
interface ExpectedShape extends ImageShape {
  scale: number;
  source: string;
}

/** Raw values of one target: `k` per image. */
interface RawTarget {
  values: Float64Array;
  k: number;
  file: string;
}

/** One images file with its target files, read into memory. */
interface ImageSource extends ImageShape {
  file: string;
  /** Images kept (after `limit`). */
  count: number;
  /** Pixels as the model sees them (scaled, rotated), count * h * w * c. */
  pixels: Float32Array;
  scale: number;
  /** Target name -> raw values. */
  targets: Record<string, RawTarget>;
}

/** How messages name the files of one source: config keys, or command-line flags. */
interface SourceKeys {
  images: string;
  target: (name: string) => string;
  missingTarget: (name: string) => string;
}

function configKeys(prefix: string): SourceKeys {
  return {
    images: `${prefix}.images`,
    target: (name) => `${prefix}.targets.${name}`,
    missingTarget: (name) => `add ${prefix}.targets.${name}: <path to an IDX file with one value per image>`,
  };
}

const targetNamesOf = (task: TaskConfig) => (Array.isArray(task.target) ? task.target : [task.target]);

function targetNames(tasks: Record<string, TaskConfig>): string[] {
  return [...new Set(Object.values(tasks).flatMap(targetNamesOf))];
}

/** The images' shape and pixel scale from an IDX header, checked (against `expected` for val, test and new files). */
function imageShape(file: string, key: string, idx: { type: IdxType; dims: number[] }, limit: number | undefined, expected?: ExpectedShape): ImageShape & { total: number; count: number; scale: number } {
  if (idx.dims.length !== 3 && idx.dims.length !== 4) {
    throw new DataError(`${file}: expected images as N x H x W or N x H x W x C, found ${idx.dims.length} dimensions (${idx.dims.join(' x ')})`, `${key} must be an images file (idx3)`);
  }
  const [total, height, width] = idx.dims;
  const channels = idx.dims[3] ?? 1;
  if (total === 0) throw new DataError(`${file}: holds no images`, 'point the config at a file with images');
  if (height === 0 || width === 0 || channels === 0) throw new DataError(`${file}: images of ${idx.dims.slice(1).join(' x ')} pixels hold nothing`, `${key} must hold images of at least 1 x 1 pixel`);
  if (expected && (expected.height !== height || expected.width !== width || expected.channels !== channels)) {
    throw new DataError(
      `${file}: images are ${height}x${width}x${channels}, ${expected.source} ${expected.height}x${expected.width}x${expected.channels}`,
      'resize the images to the training size',
    );
  }
  const count = Math.min(total, limit ?? total);
  const scale = idx.type === 'ubyte' ? 1 / 255 : 1;
  if (expected && expected.scale !== scale) {
    const trained = expected.scale === 1 ? 'not bytes (used as they are)' : 'bytes (0-255, scaled by 1/255)';
    throw new DataError(`${file}: pixels are ${idx.type} values, but the training pixels were ${trained}`, 'store the images with the same IDX type as the training images');
  }
  return { total, count, height, width, channels, scale };
}

/** IDX values as pixels, scaled; image numbers in errors count from `first`. */
function toPixels(file: string, data: IdxData, scale: number, size: number, first = 0): Float32Array {
  const pixels = new Float32Array(data.length);
  if (data instanceof Uint8Array) {
    for (let i = 0; i < pixels.length; i++) pixels[i] = data[i] * scale;
  } else {
    for (let i = 0; i < pixels.length; i++) {
      const v = data[i] * scale;
      if (!Number.isFinite(v) || Math.abs(v) > MAX_ABS_VALUE) {
        throw new DataError(`${file}: image ${first + Math.floor(i / size)} holds the pixel value ${data[i]}`, 'pixel values must be finite numbers of a sensible size');
      }
      pixels[i] = v;
    }
  }
  return pixels;
}

function readImages(file: string, key: string, limit: number | undefined, expected?: ExpectedShape): Omit<ImageSource, 'targets'> & { total: number } {
  const idx = readIdx(file, key);
  const shape = imageShape(file, key, idx, limit, expected);
  const size = shape.height * shape.width * shape.channels;
  return { file, ...shape, pixels: toPixels(file, idx.data.subarray(0, shape.count * size), shape.scale, size) };
}

function readTarget(file: string, key: string, count: number, imagesFile: string, totalImages: number): RawTarget {
  const idx: IdxArray = readIdx(file, key);
  if (idx.dims.length > 2) throw new DataError(`${file}: expected one value per image (N or N x K), found ${idx.dims.join(' x ')}`, `${key} must be a labels/values file (idx1)`);
  if (idx.dims[0] !== totalImages) {
    throw new DataError(`${file}: holds ${idx.dims[0]} values but ${imagesFile} holds ${totalImages} images`, 'images and target files must have one entry per image, in the same order');
  }
  const k = idx.dims[1] ?? 1;
  if (k === 0) throw new DataError(`${file}: holds ${idx.dims.join(' x ')} values, no value per image`, `${key} needs at least one value per image`);
  const values = Float64Array.from(idx.data.subarray(0, count * k) as ArrayLike<number>);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]) || Math.abs(values[i]) > MAX_ABS_VALUE) {
      throw new DataError(`${file}: value ${i} (image ${Math.floor(i / k)}) is ${values[i]}`, 'targets must be finite numbers of a sensible size');
    }
  }
  return { values, k, file };
}

/** Reads an images file and the target files the tasks use; applies the rotation when asked. */
function readSource(
  images: string,
  targets: Record<string, string>,
  keys: SourceKeys,
  tasks: Record<string, TaskConfig>,
  data: Pick<IdxDataConfig, 'limit' | 'rotation'>,
  seed: number,
  expected?: ExpectedShape,
): ImageSource {
  const { total, ...base } = readImages(images, keys.images, data.limit, expected);
  const source: ImageSource = { ...base, targets: readTargets(images, targets, keys, tasks, data, base.count, total) };
  if (data.rotation) applyRotation(source, data.rotation.max_degrees, seed, data.rotation.target);
  for (const [name, task] of Object.entries(tasks)) if (task.type === 'classification') checkLabels(source, task.target, name);
  return source;
}

/** The target files the tasks use (the rotation target is derived). */
function readTargets(images: string, targets: Record<string, string>, keys: SourceKeys, tasks: Record<string, TaskConfig>, data: Pick<IdxDataConfig, 'rotation'>, count: number, total: number): Record<string, RawTarget> {
  const out: Record<string, RawTarget> = {};
  for (const name of targetNames(tasks)) {
    if (data.rotation && name === data.rotation.target) continue;
    const file = targets[name];
    if (!file) throw new DataError(`${images}: no file for target "${name}"`, keys.missingTarget(name));
    out[name] = readTarget(file, keys.target(name), count, images, total);
  }
  return out;
}

function checkLabels(source: Pick<ImageSource, 'targets'>, target: string, task: string): void {
  const raw = source.targets[target];
  if (!raw) return;
  if (raw.k !== 1) throw new DataError(`${raw.file}: holds ${raw.k} values per image; task ${task} is a classification and needs one label per image`, 'use a 1-D labels file (idx1), or make the task a regression');
  for (let i = 0; i < raw.values.length; i++) {
    if (!Number.isInteger(raw.values[i])) {
      throw new DataError(`${raw.file}: image ${i} has the label ${raw.values[i]}; task ${task} is a classification and needs integer labels`, 'store class labels as integers, or make the task a regression');
    }
  }
}

function applyRotation(source: ImageSource, maxDegrees: number, seed: number, target: string): void {
  source.targets[target] = rotationTarget(source, maxDegrees, seed);
  rotatePixels(source, source.pixels, source.targets[target].values, 0);
}

/** Each image's seeded angle, the rotation target. */
function rotationTarget(source: { file: string; count: number }, maxDegrees: number, seed: number): RawTarget {
  return { values: Float64Array.from({ length: source.count }, (_, i) => rotationAngle(seed, i, maxDegrees)), k: 1, file: `${source.file} (rotation)` };
}

/** Rotates images [first, first + n) of a source, held in `pixels`, by their angles. */
function rotatePixels(shape: ImageShape, pixels: Float32Array, angles: Float64Array, first: number): void {
  const size = shape.height * shape.width * shape.channels;
  const rotated = new Float32Array(size);
  for (let i = 0; i < pixels.length / size; i++) {
    const image = pixels.subarray(i * size, (i + 1) * size);
    rotateImage(image, rotated, shape.height, shape.width, shape.channels, angles[first + i]);
    image.set(rotated);
  }
}

/** The values a task trains on: its one target, or several regression targets side by side. */
function taskTarget(source: Pick<ImageSource, 'targets' | 'count'>, task: TaskConfig): RawTarget | undefined {
  const parts = targetNamesOf(task).map((name) => source.targets[name]);
  if (parts.some((p) => p === undefined)) return undefined;
  if (parts.length === 1) return parts[0];
  const k = parts.reduce((n, p) => n + p.k, 0);
  const values = new Float64Array(source.count * k);
  let offset = 0;
  for (const p of parts) {
    for (let i = 0; i < source.count; i++) for (let j = 0; j < p.k; j++) values[i * k + offset + j] = p.values[i * p.k + j];
    offset += p.k;
  }
  return { values, k, file: parts.map((p) => p.file).join(' + ') };
}

/** Column names of a regression target: the target names, `name[j]` for N x K files. */
function regressionColumns(source: Pick<ImageSource, 'targets'>, task: TaskConfig): string[] {
  return targetNamesOf(task).flatMap((name) => {
    const k = source.targets[name].k;
    return k === 1 ? [name] : Array.from({ length: k }, (_, j) => `${name}[${j}]`);
  });
}

function fitTargets(tasks: Record<string, TaskConfig>, source: Pick<ImageSource, 'targets' | 'count'>, trainIndex: number[], standardize: boolean): Record<string, TargetTransform> {
  const out: Record<string, TargetTransform> = {};
  for (const [name, task] of Object.entries(tasks)) {
    const raw = taskTarget(source, task)!;
    if (task.type === 'classification') {
      // Classes come from the whole train file (every image, whichever split it lands in).
      const classes = classNames(Array.from(raw.values, String), task.num_classes, name);
      checkClasses(name, task, classes);
      const index = new Map(classes.map((c, i) => [c, i]));
      const weights = classWeights(name, task, classes, trainIndex.map((i) => index.get(String(raw.values[i]))!));
      out[name] = { kind: 'classification', column: task.target, classes, ...(weights ? { weights } : {}) };
      continue;
    }
    const { values, k } = raw;
    const n = trainIndex.length;
    const mean: number[] = Array(k).fill(0);
    const std: number[] = Array(k).fill(0);
    for (const i of trainIndex) for (let j = 0; j < k; j++) mean[j] += values[i * k + j] / n;
    for (const i of trainIndex) for (let j = 0; j < k; j++) std[j] += (values[i * k + j] - mean[j]) ** 2 / n;
    const columns = regressionColumns(source, task);
    out[name] = standardize
      ? { kind: 'regression', columns, mean, std: std.map((v) => Math.sqrt(v) || 1) }
      : { kind: 'regression', columns, mean: mean.map(() => 0), std: std.map(() => 1) };
  }
  return out;
}

/**
 * The images `index` of `source` as a split. A label outside the known classes throws,
 * or, when `unscorable` is given, lists the image there and leaves it out.
 */
function buildSplit(source: ImageSource, index: number[], pre: Preprocessing, tasks: Record<string, TaskConfig>, unscorable?: UnscorableRow[], first = 0): Split {
  index = scorable(source, index, pre, tasks, unscorable, first);
  const size = source.height * source.width * source.channels;
  const features = new Float32Array(index.length * size);
  index.forEach((i, o) => features.set(source.pixels.subarray(i * size, (i + 1) * size), o * size));
  const targets: Split['targets'] = {};
  for (const [name, task] of Object.entries(tasks)) {
    const raw = taskTarget(source, task);
    if (!raw) continue;
    const t = pre.targets[name];
    if (t.kind === 'classification') {
      const classIndex = new Map(t.classes.map((c, i) => [c, i]));
      const classes = Int32Array.from(index, (i) => classIndex.get(String(raw.values[i]))!);
      targets[name] = t.weights ? weightedClasses(classes, t.weights) : classes;
    } else if (t.kind === 'regression') {
      const k = raw.k;
      if (k !== t.columns.length) throw new DataError(`${raw.file}: holds ${k} values per image, the model was trained on ${t.columns.length} (${t.columns.join(', ')})`, 'use target files shaped like the training ones');
      const out = new Float32Array(index.length * k);
      index.forEach((i, o) => {
        for (let j = 0; j < k; j++) out[o * k + j] = (raw.values[i * k + j] - t.mean[j]) / t.std[j];
      });
      targets[name] = out;
    }
  }
  return { size: index.length, inputs: [{ name: IDX_INPUT, shape: [source.height, source.width, source.channels], packed: false, values: features }], targets, rows: Int32Array.from(index, (i) => first + i) };
}

/** The images of `index` whose labels the model knows; another throws, or with `unscorable` is listed there. Images are numbered from `first`. */
function scorable(source: Pick<ImageSource, 'targets' | 'count'>, index: number[], pre: Preprocessing, tasks: Record<string, TaskConfig>, unscorable?: UnscorableRow[], first = 0): number[] {
  const labelTasks = Object.entries(tasks).flatMap(([name, task]) => {
    const t = pre.targets[name];
    const raw = taskTarget(source, task);
    return t.kind === 'classification' && raw ? [{ name, raw, classes: t.classes, index: new Map(t.classes.map((c, i) => [c, i])) }] : [];
  });
  if (labelTasks.length > 0) {
    index = index.filter((i) => {
      for (const { name, raw, classes, index: classIndex } of labelTasks) {
        const label = String(raw.values[i]);
        if (classIndex.has(label)) continue;
        const reason = `task ${name}: class "${label}" was never seen in training`;
        if (!unscorable) throw new DataError(`${raw.file}: image ${first + i}: ${reason}`, `the model knows ${classes.join(', ')}`);
        unscorable.push({ row: first + i, reason });
        return false;
      }
      return true;
    });
  }
  return index;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The seeded split of the train images (carving val/test where no file gives them) and the preprocessing fitted on it. */
function idxSplitAndPreprocessing(
  config: Config,
  train: Pick<ImageSource, 'targets' | 'count' | 'file' | 'scale'>,
  shape: ImageShape,
  hasVal: boolean,
  hasTest: boolean,
  dataSeed: number,
): { parts: ReturnType<typeof splitIndices>; preprocessing: Preprocessing } {
  const data = config.data as IdxDataConfig;
  const fractions = data.images ? data.split : carveFractions(data.split, hasVal, hasTest);
  const stratify = data.split.stratify ? config.tasks[data.split.stratify] : undefined;
  const strata = stratify ? Array.from(train.targets[stratify.target as string].values, String) : undefined;
  const parts = splitIndices(train.count, fractions, dataSeed, train.file, { strata });
  const preprocessing: Preprocessing = {
    kind: 'image',
    inputs: [{ name: IDX_INPUT, type: 'image', shape: [shape.height, shape.width, shape.channels], state: { ...shape, resize: false, encoder: defaultImageEncoder() } satisfies ImageState }],
    image: { ...shape, scale: train.scale },
    rotation: data.rotation ? { target: data.rotation.target, maxDegrees: data.rotation.max_degrees, seed: dataSeed } : undefined,
    targets: fitTargets(config.tasks, train, parts.train, data.standardize_targets),
  };
  return { parts, preprocessing };
}

/** Training data from IDX files: seeded split (or explicit files), targets fitted on train. */
export function loadIdxData(config: Config): LoadedData {
  const data = config.data as IdxDataConfig;
  // The data (split and derived rotation) follows data.split.seed when given, so mtl
  // compare trains every seed on the same images and angles.
  const dataSeed = data.split.seed ?? config.seed;
  const read = (images: string, targets: Record<string, string>, prefix: string, expected?: ExpectedShape) =>
    readSource(images, targets, configKeys(prefix), config.tasks, data, dataSeed, expected);
  const trainSource = data.images ? read(data.images, data.targets, 'data') : read(data.splits!.train.images, data.splits!.train.targets, 'data.splits.train');
  const shape: ImageShape = { height: trainSource.height, width: trainSource.width, channels: trainSource.channels };
  const other = (which: 'val' | 'test') => {
    const s = data.splits?.[which];
    return s ? read(s.images, s.targets, `data.splits.${which}`, { ...shape, scale: trainSource.scale, source: `the train images (${trainSource.file}) are` }) : undefined;
  };
  const valSource = other('val');
  const testSource = other('test');
  const { parts, preprocessing } = idxSplitAndPreprocessing(config, trainSource, shape, !!valSource, !!testSource, dataSeed);
  const split = (source: ImageSource | undefined, carved: number[]) =>
    source ? buildSplit(source, range(source.count), preprocessing, config.tasks) : buildSplit(trainSource, carved, preprocessing, config.tasks);
  const notes = data.rotation ? [`rotated every image by a seeded random angle in ±${data.rotation.max_degrees}° (target "${data.rotation.target}")`] : [];
  return {
    train: buildSplit(trainSource, parts.train, preprocessing, config.tasks),
    val: split(valSource, parts.val),
    test: split(testSource, parts.test),
    preprocessing,
    notes,
  };
}

/**
 * Applies saved image preprocessing to a new IDX file (eval --data, predict). With
 * targets (eval) the rotation is redone exactly as in training, so the angles are the
 * targets again; without (predict) images are scored as given, and the model tells how
 * far each one looks rotated.
 */
export function applyImagePreprocessing(
  pre: Preprocessing,
  tasks: Record<string, TaskConfig>,
  images: string,
  targets: Record<string, string>,
  options: { requireTargets: boolean; strict: boolean },
): { split: Split; unscorable: UnscorableRow[] } {
  const how = newFileReading(pre, tasks, options);
  const source = readSource(images, targets, how.keys, how.tasks, how.data, how.seed, how.expected);
  const unscorable: UnscorableRow[] = [];
  const split = buildSplit(source, range(source.count), pre, how.tasks, options.strict ? undefined : unscorable);
  return { split, unscorable };
}

/** How a new IDX file is read with saved preprocessing: the tasks scored, the rotation (redone with targets), its seed, the keys messages name and the shape the images must have. */
function newFileReading(pre: Preprocessing, tasks: Record<string, TaskConfig>, options: { requireTargets: boolean }) {
  const keys: SourceKeys = {
    images: '--data',
    target: (name) => `--target ${name}`,
    missingTarget: (name) => `pass --target ${name}=<IDX file with one value per image>`,
  };
  return {
    tasks: options.requireTargets ? tasks : {},
    data: { limit: undefined, rotation: pre.rotation && options.requireTargets ? { target: pre.rotation.target, max_degrees: pre.rotation.maxDegrees } : undefined },
    seed: pre.rotation?.seed ?? 0,
    keys,
    expected: pre.image && { ...pre.image, source: 'the model was trained on' },
  };
}

/**
 * A new IDX file (eval --data, predict) larger than data.memory_budget decoded: its
 * images read from disk a block at a time, each block as applyImagePreprocessing reads
 * the whole file (the same rotation angles, image numbers and errors); the targets are held.
 */
export async function openIdxBlocks(
  pre: Preprocessing,
  tasks: Record<string, TaskConfig>,
  images: string,
  targets: Record<string, string>,
  budget: number,
  options: { requireTargets: boolean; strict: boolean },
): Promise<NewFileReader> {
  const how = newFileReading(pre, tasks, options);
  const notes: string[] = [];
  const source = await openDiskImages(images, targets, how.keys, how.tasks, how.data, how.seed, notes, how.expected);
  const { blockRows } = sizing(budget, source.height * source.width * source.channels * source.idx.valueBytes, encodedRowBytes(pre), undefined);
  // Every image, in file order; nothing is shuffled (no seed, no buffer).
  const reader = new IdxPartReader(source, 0, undefined, blockRows, pre, how.tasks, 0, 0);
  return {
    *blocks() {
      try {
        for (const block of reader.blocks()) {
          const unscorable: UnscorableRow[] = [];
          yield { split: reader.block(block, options.strict ? undefined : unscorable), unscorable };
        }
      } finally {
        reader.close();
      }
    },
    blockCount: reader.blocks().length,
    notes: () => notes,
  };
}

/** The images of one IDX file on disk with its targets in memory (streamed data). */
interface DiskImages extends ImageShape {
  file: string;
  idx: IdxFile;
  count: number;
  scale: number;
  targets: Record<string, RawTarget>;
  /** The rotation's angles (the pixels are rotated as they are read). */
  angles?: Float64Array;
}

async function openDiskImages(
  images: string,
  targets: Record<string, string>,
  keys: SourceKeys,
  tasks: Record<string, TaskConfig>,
  data: Pick<IdxDataConfig, 'limit' | 'rotation'>,
  seed: number,
  notes: string[],
  expected?: ExpectedShape,
): Promise<DiskImages> {
  const idx = await IdxFile.open(images, keys.images);
  if (idx.unpacked) notes.push(`data: unpacked ${images} to a temporary file (${(idx.unpacked / 2 ** 20).toFixed(1)} MB) to read its images by offset`);
  const { total, ...shape } = imageShape(images, keys.images, idx, data.limit, expected);
  const source: DiskImages = { file: images, idx, ...shape, targets: readTargets(images, targets, keys, tasks, data, shape.count, total) };
  if (data.rotation) {
    source.targets[data.rotation.target] = rotationTarget(source, data.rotation.max_degrees, seed);
    source.angles = source.targets[data.rotation.target].values;
  }
  for (const [name, task] of Object.entries(tasks)) if (task.type === 'classification') checkLabels(source, task.target, name);
  // Bytes need no check; other pixel types are checked once, a block at a time, before training.
  const size = shape.height * shape.width * shape.channels;
  if (idx.type !== 'ubyte') for (let first = 0; first < source.count; first += 4096) toPixels(images, idx.read(first, Math.min(4096, source.count - first)), source.scale, size, first);
  return source;
}

/** A block of streamed IDX images: [start, end) of its file. */
interface ImageBlock {
  start: number;
  end: number;
}

/** One part of IDX images on disk, a block at a time: `part` of `flags` (every image when flags is undefined). */
class IdxPartReader implements PartReader<ImageBlock> {
  private readonly kept: ImageBlock[];

  constructor(
    private readonly source: DiskImages,
    readonly part: 0 | 1 | 2,
    private readonly flags: Uint8Array | undefined,
    blockRows: number,
    private readonly pre: Preprocessing,
    private readonly tasks: Record<string, TaskConfig>,
    readonly seed: number,
    readonly bufferRows: number,
  ) {
    this.kept = [];
    for (let start = 0; start < source.count; start += blockRows) {
      const end = Math.min(source.count, start + blockRows);
      if (!flags || flags.subarray(start, end).includes(part)) this.kept.push({ start, end });
    }
  }

  blocks(): ImageBlock[] {
    return this.kept;
  }

  /** A block's images of this part; labels the model does not know throw, or with `unscorable` are listed there. */
  block({ start, end }: ImageBlock, unscorable?: UnscorableRow[]): Split {
    const { source } = this;
    const size = source.height * source.width * source.channels;
    const pixels = toPixels(source.file, source.idx.read(start, end - start), source.scale, size, start);
    if (source.angles) rotatePixels(source, pixels, source.angles, start);
    const targets = Object.fromEntries(Object.entries(source.targets).map(([name, t]) => [name, { ...t, values: t.values.subarray(start * t.k, end * t.k) }]));
    const index: number[] = [];
    for (let i = start; i < end; i++) if (!this.flags || this.flags[i] === this.part) index.push(i - start);
    return buildSplit({ ...source, count: end - start, pixels, targets }, index, this.pre, this.tasks, unscorable, start);
  }

  close(): void {
    this.source.idx.close();
  }
}

/**
 * IDX data larger than data.memory_budget decoded (or data.streaming): the images stay
 * on disk (a gzipped file unpacked once to a temporary file) and are read a block at a
 * time, each epoch in a seeded block order through the shuffle buffer, as streamed
 * tables are (stream.ts); the targets, a few values per image, are held.
 */
export async function loadIdxStreamed(config: Config, why: string): Promise<LoadedData> {
  const data = config.data as IdxDataConfig;
  const budget = memoryBytes(data.memory_budget ?? '4GB');
  const dataSeed = data.split.seed ?? config.seed;
  const notes = [why];
  const open = (images: string, targets: Record<string, string>, prefix: string, expected?: ExpectedShape) => openDiskImages(images, targets, configKeys(prefix), config.tasks, data, dataSeed, notes, expected);
  const train = data.images ? await open(data.images, data.targets, 'data') : await open(data.splits!.train.images, data.splits!.train.targets, 'data.splits.train');
  const shape: ImageShape = { height: train.height, width: train.width, channels: train.channels };
  const other = async (which: 'val' | 'test') => {
    const s = data.splits?.[which];
    return s ? open(s.images, s.targets, `data.splits.${which}`, { ...shape, scale: train.scale, source: `the train images (${train.file}) are` }) : undefined;
  };
  const val = await other('val');
  const test = await other('test');
  const { parts, preprocessing } = idxSplitAndPreprocessing(config, train, shape, !!val, !!test, dataSeed);
  const flags = new Uint8Array(train.count);
  parts.val.forEach((i) => (flags[i] = 1));
  parts.test.forEach((i) => (flags[i] = 2));
  // Labels outside the train classes are an error now, not at the first evaluation.
  for (const s of [val, test]) if (s) scorable(s, range(s.count), preprocessing, config.tasks);

  const size = shape.height * shape.width * shape.channels;
  const rowBytes = encodedRowBytes(preprocessing);
  const sized = sizing(budget, size * train.idx.valueBytes, rowBytes, data.shuffle_buffer);
  const bufferRows = Math.min(sized.bufferRows, parts.train.length);
  if (data.shuffle_buffer && data.shuffle_buffer * rowBytes > budget / 2) {
    notes.push(`data.shuffle_buffer: ${data.shuffle_buffer} images take ${mb(data.shuffle_buffer * rowBytes)}, more than half of data.memory_budget (${mb(budget)})`);
  }
  notes.push(`data: images read from disk in blocks of up to ${sized.blockRows}; shuffle buffer of ${bufferRows} images (${mb(bufferRows * rowBytes)})`);
  if (data.rotation) notes.push(`rotated every image by a seeded random angle in ±${data.rotation.max_degrees}° (target "${data.rotation.target}")`);
  const reader = (source: DiskImages, part: 0 | 1 | 2, carved: boolean) => new IdxPartReader(source, part, carved ? flags : undefined, sized.blockRows, preprocessing, config.tasks, config.seed, bufferRows);
  const specs = preprocessing.inputs;
  return {
    train: streamedSplit(specs, parts.train.length, reader(train, 0, true)),
    val: val ? streamedSplit(specs, val.count, reader(val, 1, false)) : streamedSplit(specs, parts.val.length, reader(train, 1, true)),
    test: test ? streamedSplit(specs, test.count, reader(test, 2, false)) : streamedSplit(specs, parts.test.length, reader(train, 2, true)),
    preprocessing,
    notes,
  };
}
