/**
 * Image sets from IDX files: N x H x W (one channel) or N x H x W x C images, one
 * IDX file per target (labels or values), an optional derived rotation target.
 */
import { defaultImageEncoder, type Config, type IdxDataConfig, type TaskConfig } from '../config/schema';
import type { ImageState } from '../inputs/image';
import { DataError } from '../errors';
import { MAX_ABS_VALUE } from './csv';
import { readIdx, type IdxArray } from './idx';
import { rotateImage, rotationAngle } from './rotation';
import { carveFractions, splitIndices } from './split';
import { classNames } from './tabular';
import { weightedClasses } from './labels';
import { checkClasses, classWeights } from './targets';
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

function readImages(file: string, key: string, limit: number | undefined, expected?: ExpectedShape): Omit<ImageSource, 'targets'> & { total: number } {
  const idx = readIdx(file, key);
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
  const size = height * width * channels;
  const scale = idx.type === 'ubyte' ? 1 / 255 : 1;
  if (expected && expected.scale !== scale) {
    const trained = expected.scale === 1 ? 'not bytes (used as they are)' : 'bytes (0-255, scaled by 1/255)';
    throw new DataError(`${file}: pixels are ${idx.type} values, but the training pixels were ${trained}`, 'store the images with the same IDX type as the training images');
  }
  const pixels = new Float32Array(count * size);
  const data = idx.data;
  if (data instanceof Uint8Array) {
    for (let i = 0; i < pixels.length; i++) pixels[i] = data[i] * scale;
  } else {
    for (let i = 0; i < pixels.length; i++) {
      const v = data[i] * scale;
      if (!Number.isFinite(v) || Math.abs(v) > MAX_ABS_VALUE) {
        throw new DataError(`${file}: image ${Math.floor(i / size)} holds the pixel value ${data[i]}`, 'pixel values must be finite numbers of a sensible size');
      }
      pixels[i] = v;
    }
  }
  return { file, count, total, height, width, channels, pixels, scale };
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
  const source: ImageSource = { ...base, targets: {} };
  for (const name of targetNames(tasks)) {
    if (data.rotation && name === data.rotation.target) continue;
    const file = targets[name];
    if (!file) throw new DataError(`${images}: no file for target "${name}"`, keys.missingTarget(name));
    source.targets[name] = readTarget(file, keys.target(name), base.count, images, total);
  }
  if (data.rotation) applyRotation(source, data.rotation.max_degrees, seed, data.rotation.target);
  for (const [name, task] of Object.entries(tasks)) if (task.type === 'classification') checkLabels(source, task.target, name);
  return source;
}

function checkLabels(source: ImageSource, target: string, task: string): void {
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
  const { height, width, channels, count } = source;
  const size = height * width * channels;
  const angles = new Float64Array(count);
  const rotated = new Float32Array(size);
  for (let i = 0; i < count; i++) {
    angles[i] = rotationAngle(seed, i, maxDegrees);
    const image = source.pixels.subarray(i * size, (i + 1) * size);
    rotateImage(image, rotated, height, width, channels, angles[i]);
    image.set(rotated);
  }
  source.targets[target] = { values: angles, k: 1, file: `${source.file} (rotation)` };
}

/** The values a task trains on: its one target, or several regression targets side by side. */
function taskTarget(source: ImageSource, task: TaskConfig): RawTarget | undefined {
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
function regressionColumns(source: ImageSource, task: TaskConfig): string[] {
  return targetNamesOf(task).flatMap((name) => {
    const k = source.targets[name].k;
    return k === 1 ? [name] : Array.from({ length: k }, (_, j) => `${name}[${j}]`);
  });
}

function fitTargets(tasks: Record<string, TaskConfig>, source: ImageSource, trainIndex: number[], standardize: boolean): Record<string, TargetTransform> {
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
function buildSplit(source: ImageSource, index: number[], pre: Preprocessing, tasks: Record<string, TaskConfig>, unscorable?: UnscorableRow[]): Split {
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
        if (!unscorable) throw new DataError(`${raw.file}: image ${i}: ${reason}`, `the model knows ${classes.join(', ')}`);
        unscorable.push({ row: i, reason });
        return false;
      }
      return true;
    });
  }

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
  return { size: index.length, inputs: [{ name: IDX_INPUT, shape: [source.height, source.width, source.channels], packed: false, values: features }], targets, rows: Int32Array.from(index) };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

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
  const fractions = data.images ? data.split : carveFractions(data.split, !!valSource, !!testSource);
  const stratify = data.split.stratify ? config.tasks[data.split.stratify] : undefined;
  const strata = stratify ? Array.from(trainSource.targets[stratify.target as string].values, String) : undefined;
  const parts = splitIndices(trainSource.count, fractions, dataSeed, trainSource.file, { strata });
  const preprocessing: Preprocessing = {
    kind: 'image',
    inputs: [{ name: IDX_INPUT, type: 'image', shape: [shape.height, shape.width, shape.channels], state: { ...shape, resize: false, encoder: defaultImageEncoder() } satisfies ImageState }],
    image: { ...shape, scale: trainSource.scale },
    rotation: data.rotation ? { target: data.rotation.target, maxDegrees: data.rotation.max_degrees, seed: dataSeed } : undefined,
    targets: fitTargets(config.tasks, trainSource, parts.train, data.standardize_targets),
  };
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
  const used = options.requireTargets ? tasks : {};
  const rotation = pre.rotation && options.requireTargets ? { target: pre.rotation.target, max_degrees: pre.rotation.maxDegrees } : undefined;
  const keys: SourceKeys = {
    images: '--data',
    target: (name) => `--target ${name}`,
    missingTarget: (name) => `pass --target ${name}=<IDX file with one value per image>`,
  };
  const expected = pre.image && { ...pre.image, source: 'the model was trained on' };
  const source = readSource(images, targets, keys, used, { limit: undefined, rotation }, pre.rotation?.seed ?? 0, expected);
  const unscorable: UnscorableRow[] = [];
  const split = buildSplit(source, range(source.count), pre, used, options.strict ? undefined : unscorable);
  return { split, unscorable };
}
