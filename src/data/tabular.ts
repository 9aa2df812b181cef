/**
 * Tables (CSV, JSONL) -> model inputs: each input column is fitted and encoded by its
 * type (src/inputs/: numbers standardized, categories one-hot or embedded, image paths
 * decoded), missing values dropped or imputed, targets encoded. Everything is fitted
 * on the train split only and recorded in `Preprocessing`, so eval and predict
 * transform new files exactly as training did.
 */
import { IMAGE_FOLDER_IMAGE, type Config, type ImageFolderDataConfig, type InputConfig, type TableDataConfig, type TaskConfig } from '../config/schema';
import { CellError, inputType, isPacked, type InputSpec } from '../inputs';
import { releaseDecodedImages } from '../inputs/image';
import { DataError } from '../errors';
import { existsSync, statSync } from 'node:fs';
import { sampleSize } from './batches';
import { columnIndex, numericCell, parseNumber, readTable, type CsvTable, type TableFormat } from './csv';
import { LIST_CELL, MISSING_CELL } from './jsonl';
import { UNLABELLED_CLASS, weightedClasses } from './labels';
import { checkClasses, classWeights, describeWeights, labelSet, multilabelLabels, positiveWeights } from './targets';
import { carveFractions, splitIndices, type Fractions } from './split';
import { rotateImage, rotationAngle } from './rotation';
import type { LoadedData, Preprocessing, Split, TargetTransform, UnscorableRow } from './types';

/** A CSV row after reading, before encoding. */
interface Row {
  table: CsvTable;
  index: number;
  line: number;
  /** Input cells by input position; null = missing. */
  features: (string | null)[];
  /** Per task: the label (classification), the values (regression) or the set of labels (multilabel). */
  targets: Record<string, string | string[] | number[] | null>;
}

function targetColumns(task: TaskConfig): string[] {
  return Array.isArray(task.target) ? task.target : [task.target];
}

const lineList = (lines: number[]) => lines.slice(0, 5).join(', ') + (lines.length > 5 ? `, ... (${lines.length} in all)` : '');

/**
 * The input columns a table config trains on: data.inputs, data.features, or every
 * column of the train file that is no task's target. mtl compare fixes them for all
 * its models, so a single-task model never takes the other tasks' targets as inputs.
 */
export function featureColumns(config: Config): string[] {
  const data = asTable(config.data as TableDataConfig | ImageFolderDataConfig);
  const header = () => readTable(data.path ?? data.splits!.train, data.path ? 'data.path' : 'data.splits.train', data.format, delimiterOf(data)).header;
  return inputColumns(data, header, config.tasks);
}

function inputColumns(data: TableData, header: () => string[], tasks: Record<string, TaskConfig>): string[] {
  if (data.inputs) return data.inputs.map((i) => i.name);
  if (data.features) return data.features;
  const allTargets = new Set(Object.values(tasks).flatMap(targetColumns));
  return header().filter((c) => !allTargets.has(c));
}

export function loadCsvData(config: Config): LoadedData {
  releaseDecodedImages();
  try {
    return loadTable(config);
  } finally {
    releaseDecodedImages();
  }
}

/** The settings a table loader reads, for every table format. */
type TableData = Omit<TableDataConfig, 'format'> & { format: TableFormat };

/** An image folder reads as a table of one image input and its class column. */
function asTable(data: TableDataConfig | ImageFolderDataConfig): TableData {
  if (data.format !== 'image_folder') return data;
  return {
    format: 'image_folder',
    path: data.path,
    inputs: [{ name: IMAGE_FOLDER_IMAGE, type: 'image', ...data.image }],
    rotation: data.rotation,
    split: data.split,
    limit: data.limit,
    standardize_targets: data.standardize_targets,
    missing: 'drop',
    missing_targets: 'mask',
    na_values: [],
    standardize: true,
  };
}

function loadTable(config: Config): LoadedData {
  const data = asTable(config.data as TableDataConfig | ImageFolderDataConfig);
  const naValues = new Set(data.na_values);
  const notes: string[] = [];
  const read = (file: string, key: string) => readTable(file, key, data.format, delimiterOf(data), data.limit);
  const trainTable = data.path ? read(data.path, 'data.path') : read(data.splits!.train, 'data.splits.train');
  const valTable = data.splits?.val ? read(data.splits.val, 'data.splits.val') : undefined;
  const testTable = data.splits?.test ? read(data.splits.test, 'data.splits.test') : undefined;

  const features = inputColumns(data, () => trainTable.header, config.tasks);
  if (features.length === 0) throw new DataError(`${trainTable.file}: no feature columns left besides the targets`, 'add feature columns or list them in data.features');
  const rotation = data.rotation ? { ...data.rotation, seed: data.split.seed ?? config.seed } : undefined;

  const rowsOf = (table: CsvTable) => readRows(table, features, config.tasks, naValues, data.inputs ? 'data.inputs' : data.features ? 'data.features' : 'the header', rotation);
  const trainFileRows = rowsOf(trainTable);
  // Every row of the file gets its split before any row is set aside for a missing value,
  // so models that read the file with other tasks or features still agree on each row's split.
  const fractions: Fractions = data.path ? data.split : carveFractions(data.split, !!valTable, !!testTable);
  const parts = splitIndices(trainFileRows.length, fractions, data.split.seed ?? config.seed, trainTable.file, {
    strata: data.split.stratify ? trainFileRows.map((r) => r.targets[data.split.stratify!] as string | null) : undefined,
    groups: data.split.group ? groupCells(trainTable, data.split.group, naValues) : undefined,
  });
  const fromTrain = (idx: number[]) => idx.map((i) => trainFileRows[i]);
  let train = fromTrain(parts.train);
  let val = valTable ? rowsOf(valTable) : fromTrain(parts.val);
  let test = testTable ? rowsOf(testTable) : fromTrain(parts.test);

  const unlabelled = data.missing_targets === 'drop' ? (r: Row) => Object.values(r.targets).some((t) => t === null) : (r: Row) => Object.values(r.targets).every((t) => t === null);
  const taskCount = Object.keys(config.tasks).length;
  [train, val, test] = setAside([train, val, test], unlabelled, data.missing_targets === 'drop' || taskCount === 1 ? 'a missing target' : 'no target of any task', notes);

  const inputs = data.inputs ?? detectInputs(features, trainFileRows, data.categorical);
  emptyMissingCells([train, val, test].flat(), inputs, notes);
  for (const rows of [train, val, test]) checkNumericCells(rows, inputs, !data.inputs);

  if (data.missing === 'drop') {
    [train, val, test] = setAside([train, val, test], (r) => r.features.some((c) => c === null), 'missing values (set data.missing: impute to keep them)', notes);
  }
  if (train.length === 0) {
    throw new DataError(`${trainTable.file}: no train rows are left after dropping rows with missing values (${trainFileRows.length} rows in the file)`, 'fill in the missing cells, or set data.missing: impute and data.missing_targets: mask');
  }
  if (data.missing_targets === 'mask' && taskCount > 1) {
    for (const task of Object.keys(config.tasks)) {
      const lacking = train.filter((r) => r.targets[task] === null).length;
      if (lacking) notes.push(`task ${task}: ${lacking} of ${train.length} train rows lack its label; its loss and metrics use the ${train.length - lacking} that have it`);
    }
  }

  const specs = fitInputs(inputs, train, trainTable.file, data.standardize);
  // Classes: every label of the train file (explicit files: a label only in val/test is an error).
  const targets = fitTargets(config, trainFileRows, train, data.standardize_targets, trainTable.file, notes);
  const preprocessing: Preprocessing = {
    kind: 'table',
    inputs: specs,
    csv: { format: data.format, delimiter: delimiterOf(data), naValues: data.na_values, missing: data.missing, missingTargets: data.missing_targets },
    rotation: rotation && { target: rotation.target, maxDegrees: rotation.max_degrees, seed: rotation.seed, input: rotationInput(rotation.input, specs) },
    targets,
  };
  if (data.missing === 'impute') {
    const imputed = [...train, ...val, ...test].filter((r) => r.features.some((c) => c === null)).length;
    if (imputed) notes.push(`imputed missing feature values in ${imputed} rows (train-split mean for numbers, mode for categories)`);
  }

  const unseen = { count: 0 };
  const tallies = new Map<string, number>();
  const encode = (rows: Row[], strictLabels: boolean) => encodeRows(rows, preprocessing, config.tasks, { strictLabels, unseen, tallies, rotate: true });
  const result = { train: encode(train, true), val: encode(val, !data.path), test: encode(test, !data.path), preprocessing, notes };
  inputs.forEach((input, f) => {
    if (input.type === 'image' && input.augment) result.train.inputs[f].augment = input.augment;
  });
  notes.push(...tallyNotes(tallies));
  const images = releaseDecodedImages();
  if (images.files) notes.push(`decoded ${images.files} image files in ${images.seconds.toFixed(1)}s (kept in memory for the run)`);
  if (preprocessing.rotation) notes.push(`rotated image input "${preprocessing.rotation.input}" of every row by a seeded random angle in ±${preprocessing.rotation.maxDegrees}° (target "${preprocessing.rotation.target}")`);
  if (unseen.count) notes.push(`${unseen.count} val/test rows hold a category never seen in training; it is encoded as unknown (all zeros one-hot)`);
  return result;
}

/** Drops the rows `drop` picks from every part, with one note per file listing their lines. */
function setAside(parts: Row[][], drop: (r: Row) => boolean, why: string, notes: string[]): Row[][] {
  const dropped = new Map<string, number[]>();
  for (const row of parts.flat()) {
    if (drop(row)) dropped.set(row.table.file, [...(dropped.get(row.table.file) ?? []), row.line]);
  }
  for (const [file, lines] of dropped) notes.push(`${file}: dropped ${lines.length} rows with ${why}: lines ${lineList(lines.sort((a, b) => a - b))}`);
  return dropped.size ? parts.map((rows) => rows.filter((r) => !drop(r))) : parts;
}

function readRows(
  table: CsvTable,
  features: string[],
  tasks: Record<string, TaskConfig>,
  naValues: Set<string>,
  featureKey: string,
  rotation?: { target: string; max_degrees: number; seed: number },
): Row[] {
  const featureIdx = features.map((f) => columnIndex(table, f, featureKey));
  const derived = (t: TaskConfig) => rotation !== undefined && t.type === 'regression' && t.target === rotation.target;
  const taskCols = Object.entries(tasks).map(([name, t]) => [name, t, derived(t) ? [] : targetColumns(t).map((c) => columnIndex(table, c, `tasks.${name}.target`))] as const);
  const isMissing = (cell: string) => cell === MISSING_CELL || naValues.has(cell);
  return table.rows.map((cells, index) => {
    const line = table.lines[index];
    const targets: Record<string, string | string[] | number[] | null> = {};
    for (const [name, task, idx] of taskCols) {
      if (task.type !== 'multilabel') for (const i of idx) refuseList(table, cells[i], i, line);
      if (derived(task)) {
        targets[name] = [rotationAngle(rotation!.seed, index, rotation!.max_degrees)];
      } else if (task.type === 'multilabel') {
        const cell = cells[idx[0]];
        targets[name] = cell === '' && task.empty_cell === 'no_labels' ? [] : isMissing(cell) ? null : labelSet(cell, task);
      } else if (idx.some((i) => isMissing(cells[i]))) {
        targets[name] = null;
      } else if (task.type === 'classification') {
        targets[name] = cells[idx[0]];
      } else {
        targets[name] = idx.map((i) => {
          const cell = numericCell(cells[i], 'train on');
          if (!cell.ok) {
            throw new DataError(`${table.file}:${line}: column "${table.header[i]}" (target of task ${name}) ${cell.problem}`, 'fix the cell, or add the value to data.na_values if it means "missing"');
          }
          return cell.value;
        });
      }
    }
    for (const i of featureIdx) refuseList(table, cells[i], i, line);
    return { table, index, line, features: featureIdx.map((i) => (isMissing(cells[i]) ? null : cells[i])), targets };
  });
}

/** A JSONL array is a multilabel task's cell; in any other column it is an error. */
function refuseList(table: CsvTable, cell: string, column: number, line: number): void {
  if (!cell.startsWith(LIST_CELL)) return;
  const name = table.header[column];
  throw new DataError(`${table.file}:${line}: key "${name}" holds an array; a column holds one number or string per row (an array is the labels of a multilabel task)`, `flatten "${name}" into one key per value, or make it the target of a type: multilabel task`);
}

/**
 * The short form's inputs: a column is a category when most of its train-file values
 * are not numbers (a mostly-numeric column with a few words in it is a data error,
 * reported by checkNumericCells), unless data.categorical lists the categories.
 */
function detectInputs(features: string[], rows: Row[], categorical: string[] | undefined): InputConfig[] {
  for (const c of categorical ?? []) {
    if (!features.includes(c)) throw new DataError(`data.categorical names "${c}", which is not a feature column`, `feature columns: ${features.join(', ')}`);
  }
  const mostlyText = (f: number) => {
    const present = rows.map((r) => r.features[f]).filter((c): c is string => c !== null);
    return present.filter((c) => parseNumber(c) === undefined).length * 2 > present.length;
  };
  return features.map((name, f) =>
    (categorical ? categorical.includes(name) : mostlyText(f)) ? { name, type: 'category', encoder: 'one_hot', dim: 8 } : { name, type: 'numeric' },
  );
}

function checkNumericCells(rows: Row[], inputs: InputConfig[], shortForm: boolean): void {
  for (const row of rows) {
    inputs.forEach((input, f) => {
      const cell = row.features[f];
      if (cell === null || input.type !== 'numeric') return;
      const value = numericCell(cell, 'train on');
      if (!value.ok) {
        const asCategory = shortForm ? `list "${input.name}" in data.categorical` : `give "${input.name}" type: category`;
        throw new DataError(`${row.table.file}:${row.line}: column "${input.name}" ${value.problem}`, `fix the cell, add it to data.na_values if it means "missing", or ${asCategory}`);
      }
    });
  }
}

function fitInputs(inputs: InputConfig[], train: Row[], file: string, standardize: boolean): InputSpec[] {
  return inputs.map((input, f) => {
    const present = train.filter((r) => r.features[f] !== null);
    if (present.length === 0) throw new DataError(`${file}: column "${input.name}" has no values in the train split (all missing)`, 'drop it from the inputs, or fill it in');
    const type = inputType(input.type);
    const options = input.type === 'numeric' ? { standardize: input.standardize ?? standardize } : input;
    let state: unknown;
    try {
      state = type.fit(present.map((r) => r.features[f]!), options, { file, lines: present.map((r) => r.line) });
    } catch (e) {
      if (e instanceof CellError) throw new DataError(`${present[0].table.file}:${present[0].line}: column "${input.name}" ${e.message}`, e.hint);
      throw e;
    }
    return { name: input.name, type: input.type, shape: type.shape(state), state };
  });
}

/** Inputs that read a missing cell as an empty value (text): their cells become '' and the log says how many. */
function emptyMissingCells(rows: Row[], inputs: { name: string; type: string }[], notes: string[]): void {
  inputs.forEach((input, f) => {
    if (!inputType(input.type).readsMissingAsEmpty) return;
    let count = 0;
    for (const row of rows) {
      if (row.features[f] === null) {
        row.features[f] = '';
        count++;
      }
    }
    if (count) notes.push(`column "${input.name}": ${count} rows have no value; each reads as an empty ${input.type} (no tokens)`);
  });
}

function tallyNotes(tallies: Map<string, number>): string[] {
  return [...tallies].map(([key, count]) => {
    const [input, what] = key.split('\0');
    return `column "${input}": ${count} ${what}`;
  });
}

/** The image input a table's rotation turns: the one named, or the only one. */
function rotationInput(name: string | undefined, specs: InputSpec[]): string {
  const images = specs.filter((s) => s.type === 'image');
  const chosen = name ? images.find((s) => s.name === name) : images.length === 1 ? images[0] : undefined;
  if (!chosen) {
    throw new DataError(
      name ? `data.rotation.input names "${name}", which is not an image input` : `data.rotation needs ${images.length ? 'data.rotation.input to say which image input to rotate' : 'an image input (type: image in data.inputs)'}`,
      `image inputs: ${images.map((s) => s.name).join(', ') || 'none'}`,
    );
  }
  return chosen.name;
}

function fitTargets(config: Config, classSource: Row[], trainSplit: Row[], standardize: boolean, file: string, notes: string[]): Record<string, TargetTransform> {
  const out: Record<string, TargetTransform> = {};
  for (const [name, task] of Object.entries(config.tasks)) {
    const train = trainSplit.filter((r) => r.targets[name] !== null);
    if (train.length === 0) {
      throw new DataError(`${file}: task ${name} has no labelled row in the train split (column ${targetColumns(task).join(', ')} is missing in every train row)`, 'fill in its labels, or remove the task');
    }
    if (task.type === 'classification') {
      const labels = classSource.map((r) => r.targets[name]).filter((t): t is string => t !== null);
      const classes = classNames(labels, task.num_classes, name);
      checkClasses(name, task, classes);
      const index = new Map(classes.map((c, i) => [c, i]));
      const weights = classWeights(name, task, classes, train.map((r) => index.get(r.targets[name] as string)!));
      out[name] = { kind: 'classification', column: task.target, classes, ...(weights ? { weights } : {}) };
      if (weights) notes.push(`task ${name}: class weights ${describeWeights(classes, weights)} (class_weight${task.class_weight === 'balanced' ? ': balanced, from the train split' : ''})`);
    } else if (task.type === 'multilabel') {
      const labels = multilabelLabels(name, task, classSource.map((r) => r.targets[name]).filter((t): t is string[] => t !== null));
      if (task.labels) {
        const known = new Set(labels);
        for (const row of classSource) {
          const unknown = (row.targets[name] as string[] | null)?.find((l) => !known.has(l));
          if (unknown !== undefined) throw new DataError(`${row.table.file}:${row.line}: task ${name}: label "${unknown}" is not in tasks.${name}.labels`, `add it to tasks.${name}.labels (${labels.join(', ')}), or remove it from the row`);
        }
      }
      const posWeights = positiveWeights(name, task, labels, train.map((r) => r.targets[name] as string[]));
      out[name] = { kind: 'multilabel', column: task.target, labels, ...(posWeights ? { posWeights } : {}) };
      if (posWeights && typeof task.pos_weight !== 'number') notes.push(`task ${name}: positive weights ${describeWeights(labels, posWeights)} (pos_weight${task.pos_weight === 'balanced' ? ': balanced, from the train split' : ''})`);
    } else {
      const columns = targetColumns(task);
      const values = train.map((r) => r.targets[name] as number[]);
      const mean = columns.map((_, k) => values.reduce((a, v) => a + v[k], 0) / values.length);
      const std = columns.map((_, k) => Math.sqrt(values.reduce((a, v) => a + (v[k] - mean[k]) ** 2, 0) / values.length) || 1);
      out[name] = standardize ? { kind: 'regression', columns, mean, std } : { kind: 'regression', columns, mean: columns.map(() => 0), std: columns.map(() => 1) };
    }
  }
  return out;
}

/** Sorted distinct labels (numerically when all are numbers), padded to `numClasses`. */
export function classNames(labels: string[], numClasses: number | undefined, task: string): string[] {
  const distinct = [...new Set(labels)];
  const numeric = distinct.every((l) => parseNumber(l) !== undefined);
  distinct.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
  if (distinct.length < 2 && numClasses === undefined) {
    throw new DataError(`task ${task}: the training data holds only ${distinct.length} class (${distinct.join(', ')}); classification needs at least 2`, 'check the target column');
  }
  if (numClasses !== undefined) {
    if (numClasses < distinct.length) {
      throw new DataError(`task ${task}: num_classes is ${numClasses} but the data holds ${distinct.length} classes (${distinct.join(', ')})`, `set tasks.${task}.num_classes to at least ${distinct.length}, or remove it`);
    }
    for (let k = distinct.length; k < numClasses; k++) distinct.push(`class_${k}`);
  }
  return distinct;
}

interface EncodeOptions {
  /** A label or category outside the known ones is an error (explicit files) rather than counted. */
  strictLabels: boolean;
  unseen: { count: number };
  /** Collect problems per row instead of throwing (predict). */
  unscorable?: UnscorableRow[];
  requireTargets?: boolean;
  /** Apply the rotation of Preprocessing.rotation (training, and eval with targets). */
  rotate: boolean;
  /** Facts the input types count while encoding, by `input\0fact`. */
  tallies?: Map<string, number>;
}

function encodeRows(rows: Row[], pre: Preprocessing, tasks: Record<string, TaskConfig>, options: EncodeOptions): Split {
  const specs = pre.inputs;
  const sizes = specs.map((s) => sampleSize(s.shape));
  const arrays = sizes.map((size) => new Float32Array(rows.length * size));
  const context = { strictCategories: options.strictLabels || options.unscorable !== undefined, unseen: options.unseen, file: '' };
  const rotation = options.rotate && pre.rotation?.input ? pre.rotation : undefined;
  const rotatedInput = rotation ? specs.findIndex((s) => s.name === rotation.input) : -1;
  const tallies = specs.map((spec) => (what: string) => {
    const key = `${spec.name}\0${what}`;
    options.tallies?.set(key, (options.tallies.get(key) ?? 0) + 1);
  });
  const kept: Row[] = [];
  for (const row of rows) {
    const k = kept.length;
    try {
      const rowContext = { ...context, file: row.table.file };
      specs.forEach((spec, f) => encodeCell(row, f, spec, arrays[f].subarray(k * sizes[f], (k + 1) * sizes[f]), pre.csv!.missing, { ...rowContext, tally: tallies[f] }, options));
    } catch (e) {
      arrays.forEach((a, f) => a.fill(0, k * sizes[f], (k + 1) * sizes[f]));
      if (options.unscorable && e instanceof DataError) options.unscorable.push({ row: row.line, reason: e.message.replace(/^[^:]+:\d+: /, '') });
      else throw e;
      continue;
    }
    if (rotation) {
      const [h, w, c] = specs[rotatedInput].shape;
      const image = arrays[rotatedInput].subarray(k * sizes[rotatedInput], (k + 1) * sizes[rotatedInput]);
      const rotated = new Float32Array(image.length);
      rotateImage(image, rotated, h, w, c, rotationAngle(rotation.seed, row.index, rotation.maxDegrees));
      image.set(rotated);
    }
    kept.push(row);
  }
  const n = kept.length;
  const inputs = specs.map((s, f) => ({ name: s.name, shape: s.shape, packed: isPacked(s), values: n === rows.length ? arrays[f] : arrays[f].slice(0, n * sizes[f]) }));
  const targets: Split['targets'] = {};
  if (options.requireTargets !== false) {
    for (const name of Object.keys(tasks)) {
      const t = pre.targets[name];
      if (t.kind === 'classification') {
        const index = new Map(t.classes.map((c, i) => [c, i]));
        const classes = Int32Array.from(kept, (row) => {
          const label = row.targets[name] as string | null;
          if (label === null) return UNLABELLED_CLASS;
          const i = index.get(label);
          if (i === undefined) {
            throw new DataError(`${row.table.file}:${row.line}: task ${name}: class "${label}" was never seen in training`, `the model knows ${t.classes.join(', ')}; remove the row or retrain with it`);
          }
          return i;
        });
        targets[name] = t.weights ? weightedClasses(classes, t.weights) : classes;
      } else if (t.kind === 'multilabel') {
        targets[name] = encodeLabelSets(kept, name, t);
      } else {
        const k = t.columns.length;
        const out = new Float32Array(n * k);
        kept.forEach((row, i) => {
          const values = row.targets[name] as number[] | null;
          for (let j = 0; j < k; j++) out[i * k + j] = values ? (values[j] - t.mean[j]) / t.std[j] : NaN;
        });
        targets[name] = out;
      }
    }
  }
  return { size: n, inputs, targets, rows: Int32Array.from(kept, (r) => r.line) };
}

/** n x L indicators: 0 absent, the label's positive weight (1 without pos_weight) present, NaN for a row without the task's label. */
function encodeLabelSets(rows: Row[], name: string, t: Extract<TargetTransform, { kind: 'multilabel' }>): Float32Array {
  const k = t.labels.length;
  const index = new Map(t.labels.map((l, i) => [l, i]));
  const out = new Float32Array(rows.length * k);
  rows.forEach((row, r) => {
    const set = row.targets[name] as string[] | null;
    if (set === null) {
      out.fill(NaN, r * k, (r + 1) * k);
      return;
    }
    for (const label of set) {
      const j = index.get(label);
      if (j === undefined) {
        throw new DataError(`${row.table.file}:${row.line}: task ${name}: label "${label}" was never seen in training`, `the model knows ${t.labels.join(', ')}; remove the label from the row or retrain with it`);
      }
      out[r * k + j] = t.posWeights?.[j] ?? 1;
    }
  });
  return out;
}

function encodeCell(row: Row, f: number, spec: InputSpec, out: Float32Array, missing: 'drop' | 'impute', context: Parameters<ReturnType<typeof inputType>['encode']>[3], options: EncodeOptions): void {
  const type = inputType(spec.type);
  try {
    let cell = row.features[f];
    if (cell === null) {
      if (missing === 'drop' && options.unscorable) throw new CellError('is missing');
      cell = type.fill(spec.state);
    }
    type.encode(cell, spec.state, out, context);
  } catch (e) {
    if (e instanceof CellError) throw new DataError(`${row.table.file}:${row.line}: column "${spec.name}" ${e.message}`, e.hint);
    throw e;
  }
}

/**
 * Applies saved table preprocessing to a new CSV file (mtl eval --data, mtl predict).
 * strict: the first problem throws; otherwise problem rows are listed and left out.
 */
export function applyTablePreprocessing(...args: Parameters<typeof applyTable>): ReturnType<typeof applyTable> {
  releaseDecodedImages();
  try {
    return applyTable(...args);
  } finally {
    releaseDecodedImages();
  }
}

function applyTable(
  pre: Preprocessing,
  tasks: Record<string, TaskConfig>,
  file: string,
  options: { requireTargets: boolean; strict: boolean },
): { split: Split; unscorable: UnscorableRow[]; notes: string[] } {
  const csv = pre.csv!;
  const table = readTable(file, '--data', tableFormatOf(file, csv.format), csv.delimiter);
  const features = pre.inputs.map((c) => c.name);
  const notes: string[] = [];
  const rotation = pre.rotation?.input && options.requireTargets ? { target: pre.rotation.target, max_degrees: pre.rotation.maxDegrees, seed: pre.rotation.seed } : undefined;
  let rows = readRows(table, features, options.requireTargets ? tasks : {}, new Set(csv.naValues), 'the training data', rotation);
  // Rows are dropped as training dropped them; predict reports rows it cannot score instead.
  const byTarget = (r: Row) => Object.values(r.targets);
  const unlabelled = csv.missingTargets === 'drop' ? (r: Row) => byTarget(r).some((t) => t === null) : (r: Row) => byTarget(r).length > 0 && byTarget(r).every((t) => t === null);
  [rows] = setAside([rows], unlabelled, 'no target to score', notes);
  emptyMissingCells(rows, pre.inputs, notes);
  if (options.strict && csv.missing === 'drop') {
    [rows] = setAside([rows], (r) => r.features.some((c) => c === null), 'missing values (the model was trained with data.missing: drop)', notes);
  }
  const unscorable: UnscorableRow[] = [];
  const split = encodeRows(rows, pre, tasks, {
    strictLabels: true,
    unseen: { count: 0 },
    unscorable: options.strict ? undefined : unscorable,
    requireTargets: options.requireTargets,
    rotate: options.requireTargets,
  });
  return { split, unscorable, notes };
}

function delimiterOf(data: TableData): string {
  return 'delimiter' in data && typeof data.delimiter === 'string' ? data.delimiter : ',';
}

/** A new file for eval/predict: a folder, .jsonl/.ndjson or .csv by its name, else the training format. */
function tableFormatOf(file: string, trained: TableFormat): TableFormat {
  if (existsSync(file) && statSync(file).isDirectory()) return 'image_folder';
  if (/\.(jsonl|ndjson)(\.gz)?$/i.test(file)) return 'jsonl';
  if (/\.csv(\.gz)?$/i.test(file)) return 'csv';
  return trained;
}

/** The cells of the data.split.group column; a missing one is an error (its group is unknown). */
function groupCells(table: CsvTable, column: string, naValues: Set<string>): string[] {
  const i = columnIndex(table, column, 'data.split.group');
  return table.rows.map((cells, r) => {
    if (cells[i] === MISSING_CELL || naValues.has(cells[i])) {
      throw new DataError(`${table.file}:${table.lines[r]}: column "${column}" (data.split.group) is missing`, 'every row needs its group to be split; fill it in or drop the row');
    }
    return cells[i];
  });
}
