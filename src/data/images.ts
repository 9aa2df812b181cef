/**
 * Image sets from IDX files: N x H x W (one channel) or N x H x W x C images, one
 * IDX file per target (labels or values), an optional derived rotation target.
 */
import type { Config, IdxDataConfig, TaskConfig } from '../config/schema';
import { DataError } from '../errors';
import { readIdx, type IdxArray } from './idx';
import { rotateImage, rotationAngle } from './rotation';
import { carveFractions, splitIndices } from './split';
import { classNames } from './tabular';
import type { LoadedData, Preprocessing, Split, TargetTransform } from './types';

/** One images file with its target files, read into memory. */
interface ImageSource {
  file: string;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** Pixels as the model sees them (scaled, rotated), n * h * w * c. */
  pixels: Float32Array;
  scale: number;
  /** Raw target values per target name: n * k values and k. */
  targets: Record<string, { values: Float64Array; k: number; file: string }>;
}

function targetNames(tasks: Record<string, TaskConfig>): string[] {
  return [...new Set(Object.values(tasks).flatMap((t) => (Array.isArray(t.target) ? t.target : [t.target])))];
}

function readImages(file: string, key: string, limit: number | undefined, expected?: { height: number; width: number; channels: number }): Omit<ImageSource, 'targets'> {
  const idx = readIdx(file, key);
  if (idx.dims.length !== 3 && idx.dims.length !== 4) {
    throw new DataError(`${file}: expected images as N x H x W or N x H x W x C, found ${idx.dims.length} dimensions (${idx.dims.join(' x ')})`, `${key} must be an images file (idx3)`);
  }
  const [n, height, width] = idx.dims;
  const channels = idx.dims[3] ?? 1;
  if (n === 0) throw new DataError(`${file}: holds no images`, 'point the config at a file with images');
  if (expected && (expected.height !== height || expected.width !== width || expected.channels !== channels)) {
    throw new DataError(
      `${file}: images are ${height}x${width}x${channels}, the model was trained on ${expected.height}x${expected.width}x${expected.channels}`,
      'resize the images to the training size',
    );
  }
  const count = Math.min(n, limit ?? n);
  const size = height * width * channels;
  const scale = idx.type === 'ubyte' ? 1 / 255 : 1;
  const pixels = new Float32Array(count * size);
  for (let i = 0; i < count * size; i++) pixels[i] = idx.data[i] * scale;
  return { file, count, height, width, channels, pixels, scale };
}

function readTarget(file: string, key: string, count: number, imagesFile: string, totalImages: number): { values: Float64Array; k: number; file: string } {
  const idx: IdxArray = readIdx(file, key);
  if (idx.dims.length > 2) throw new DataError(`${file}: expected one value per image (N or N x K), found ${idx.dims.join(' x ')}`, `${key} must be a labels/values file (idx1)`);
  if (idx.dims[0] !== totalImages) {
    throw new DataError(`${file}: holds ${idx.dims[0]} values but ${imagesFile} holds ${totalImages} images`, 'images and target files must have one entry per image, in the same order');
  }
  const k = idx.dims[1] ?? 1;
  const values = Float64Array.from(idx.data.subarray(0, count * k) as ArrayLike<number>);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new DataError(`${file}: value ${i} (image ${Math.floor(i / k)}) is ${values[i]}`, 'targets must be finite numbers');
  }
  return { values, k, file };
}

function readSource(
  images: string,
  targets: Record<string, string>,
  keyPrefix: string,
  names: string[],
  data: Pick<IdxDataConfig, 'limit' | 'rotation'>,
  seed: number,
  expected?: { height: number; width: number; channels: number },
): ImageSource {
  const base = readImages(images, `${keyPrefix}.images`, data.limit, expected);
  const totalImages = readIdxCount(images);
  const source: ImageSource = { ...base, targets: {} };
  for (const name of names) {
    if (data.rotation && name === data.rotation.target) continue;
    const file = targets[name];
    if (!file) throw new DataError(`no file for target "${name}" in ${keyPrefix}.targets`, `add ${keyPrefix}.targets.${name}: <path to an IDX file>`);
    source.targets[name] = readTarget(file, `${keyPrefix}.targets.${name}`, base.count, images, totalImages);
  }
  if (data.rotation) applyRotation(source, data.rotation.max_degrees, seed, data.rotation.target);
  return source;
}

const countCache = new Map<string, number>();
function readIdxCount(file: string): number {
  // The image count before `limit`, for checking target files against it.
  if (!countCache.has(file)) countCache.set(file, readIdx(file).dims[0]);
  return countCache.get(file)!;
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

function fitTargets(tasks: Record<string, TaskConfig>, classSource: ImageSource[], train: { source: ImageSource; index: number[] }, standardize: boolean): Record<string, TargetTransform> {
  const out: Record<string, TargetTransform> = {};
  for (const [name, task] of Object.entries(tasks)) {
    const target = Array.isArray(task.target) ? task.target[0] : task.target;
    if (task.type === 'classification') {
      const labels = classSource.flatMap((s) => Array.from(s.targets[target].values, String));
      out[name] = { kind: 'classification', column: target, classes: classNames(labels, task.num_classes, name) };
    } else {
      const { values, k } = train.source.targets[target];
      const mean = Array(k).fill(0);
      const std = Array(k).fill(0);
      for (const i of train.index) for (let j = 0; j < k; j++) mean[j] += values[i * k + j] / train.index.length;
      for (const i of train.index) for (let j = 0; j < k; j++) std[j] += (values[i * k + j] - mean[j]) ** 2 / train.index.length;
      const columns = k === 1 ? [target] : Array.from({ length: k }, (_, j) => `${target}[${j}]`);
      out[name] = standardize
        ? { kind: 'regression', columns, mean, std: std.map((v) => Math.sqrt(v) || 1) }
        : { kind: 'regression', columns, mean: mean.map(() => 0), std: std.map(() => 1) };
    }
  }
  return out;
}

function buildSplit(source: ImageSource, index: number[], pre: Preprocessing, tasks: Record<string, TaskConfig>): Split {
  const size = source.height * source.width * source.channels;
  const features = new Float32Array(index.length * size);
  index.forEach((i, o) => features.set(source.pixels.subarray(i * size, (i + 1) * size), o * size));
  const targets: Split['targets'] = {};
  for (const [name, task] of Object.entries(tasks)) {
    const target = Array.isArray(task.target) ? task.target[0] : task.target;
    const raw = source.targets[target];
    if (!raw) continue;
    const t = pre.targets[name];
    if (t.kind === 'classification') {
      const classIndex = new Map(t.classes.map((c, i) => [c, i]));
      targets[name] = Int32Array.from(index, (i) => {
        const label = String(raw.values[i]);
        const c = classIndex.get(label);
        if (c === undefined) throw new DataError(`${raw.file}: image ${i}: task ${name}: class "${label}" was never seen in training`, `the model knows ${t.classes.join(', ')}`);
        return c;
      });
    } else {
      const k = raw.k;
      const out = new Float32Array(index.length * k);
      index.forEach((i, o) => {
        for (let j = 0; j < k; j++) out[o * k + j] = (raw.values[i * k + j] - t.mean[j]) / t.std[j];
      });
      targets[name] = out;
    }
  }
  return { size: index.length, featureShape: [source.height, source.width, source.channels], features, targets, rows: Int32Array.from(index) };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export function loadIdxData(config: Config): LoadedData {
  const data = config.data as IdxDataConfig;
  const names = targetNames(config.tasks);
  const trainSource = data.images
    ? readSource(data.images, data.targets, 'data', names, data, config.seed)
    : readSource(data.splits!.train.images, data.splits!.train.targets, 'data.splits.train', names, data, config.seed);
  const shape = { height: trainSource.height, width: trainSource.width, channels: trainSource.channels };
  const other = (which: 'val' | 'test') => {
    const s = data.splits?.[which];
    return s ? readSource(s.images, s.targets, `data.splits.${which}`, names, data, config.seed, shape) : undefined;
  };
  const valSource = other('val');
  const testSource = other('test');
  const fractions = data.images ? data.split : carveFractions(data.split, !!valSource, !!testSource);
  const parts = splitIndices(trainSource.count, fractions, data.split.seed ?? config.seed, trainSource.file);
  const classSource = data.images ? [trainSource] : [{ ...trainSource, targets: subsetTargets(trainSource, parts.train) }];
  const preprocessing: Preprocessing = {
    kind: 'image',
    featureShape: [shape.height, shape.width, shape.channels],
    image: { ...shape, scale: trainSource.scale },
    rotation: data.rotation ? { target: data.rotation.target, maxDegrees: data.rotation.max_degrees, seed: config.seed } : undefined,
    targets: fitTargets(config.tasks, classSource, { source: trainSource, index: parts.train }, data.standardize_targets),
  };
  return {
    train: buildSplit(trainSource, parts.train, preprocessing, config.tasks),
    val: valSource ? buildSplit(valSource, range(valSource.count), preprocessing, config.tasks) : buildSplit(trainSource, parts.val, preprocessing, config.tasks),
    test: testSource ? buildSplit(testSource, range(testSource.count), preprocessing, config.tasks) : buildSplit(trainSource, parts.test, preprocessing, config.tasks),
    preprocessing,
    notes: data.rotation ? [`rotated every image by a seeded random angle in ±${data.rotation.max_degrees}° (target "${data.rotation.target}")`] : [],
  };
}

function subsetTargets(source: ImageSource, index: number[]): ImageSource['targets'] {
  return Object.fromEntries(
    Object.entries(source.targets).map(([name, t]) => {
      const values = new Float64Array(index.length * t.k);
      index.forEach((i, o) => values.set(t.values.subarray(i * t.k, (i + 1) * t.k), o * t.k));
      return [name, { ...t, values }];
    }),
  );
}

/** Applies saved image preprocessing to a new IDX file (eval --data, predict). */
export function applyImagePreprocessing(
  pre: Preprocessing,
  tasks: Record<string, TaskConfig>,
  images: string,
  targets: Record<string, string>,
  options: { requireTargets: boolean },
): Split {
  const names = options.requireTargets ? targetNames(tasks) : [];
  const rotation = pre.rotation ? { target: pre.rotation.target, max_degrees: pre.rotation.maxDegrees } : undefined;
  const source = readSource(images, targets, '--target', names, { limit: undefined, rotation: options.requireTargets ? rotation : undefined }, pre.rotation?.seed ?? 0, pre.image);
  return buildSplit(source, range(source.count), pre, options.requireTargets ? tasks : {});
}
