/**
 * Tables (CSV, JSONL, image folders) -> model inputs: each input column is fitted and
 * encoded by its type (src/inputs/: numbers standardized, categories one-hot or
 * embedded, image paths decoded), missing values dropped or imputed, targets encoded.
 * Everything is fitted on the train split only and recorded in `Preprocessing`, so eval
 * and predict transform new files exactly as training did.
 *
 * Files are read in a stream into columns (columns.ts, csv-reader.ts): a number per
 * numeric cell, a code per category, never a string or an object per row. Rows are
 * indices into those columns from here on (frame.ts).
 */
import { IMAGE_FOLDER_IMAGE, type Config, type ImageFolderDataConfig, type InputConfig, type TableDataConfig, type TaskConfig } from '../config/schema';
import { CellError, inputType, type InputSpec } from '../inputs';
import { releaseDecodedImages } from '../inputs/image';
import { DataError } from '../errors';
import { existsSync, statSync } from 'node:fs';
import { MissingValues, NumberColumn, StringColumn, fileOf, type Column, type ColumnHint, type Table } from './columns';
import { columnIndex, readColumns, readHeader, type TableFormat } from './csv';
import { NEVER, anyFeatureMissing, checkFrame, checkKnownLabels, encodeParts, featureMissing, frameOf, labelSets, missingRows, targetColumns, targetMissing, taskMissingRows, type Frame, type Part } from './frame';
import { numericCell } from './numbers';
import { checkClasses, classWeights, describeWeights, multilabelLabels, positiveWeights } from './targets';
import { carveFractions, splitRows, type Fractions } from './split';
import { rotationAngle } from './rotation';
import { LoadNotes } from './notes';
import type { LoadedData, Preprocessing, TargetTransform, UnscorableRow, Split } from './types';

export { targetColumns };

/**
 * The input columns a table config trains on: data.inputs, data.features, or every
 * column of the train file that is no task's target. mtl compare fixes them for all
 * its models, so a single-task model never takes the other tasks' targets as inputs.
 */
export function featureColumns(config: Config): string[] {
  const data = asTable(config.data as TableDataConfig | ImageFolderDataConfig);
  const header = () => readHeader(data.path ?? data.splits!.train, data.path ? 'data.path' : 'data.splits.train', data.format, delimiterOf(data));
  return inputColumns(data, header, config.tasks);
}

export function inputColumns(data: TableData, header: () => string[], tasks: Record<string, TaskConfig>): string[] {
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
export type TableData = Omit<TableDataConfig, 'format'> & { format: TableFormat };

/** An image folder reads as a table of one image input and its class column. */
export function asTable(data: TableDataConfig | ImageFolderDataConfig): TableData {
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
    streaming: data.streaming,
    memory_budget: data.memory_budget,
    shuffle_buffer: data.shuffle_buffer,
  };
}

const HINT_RANK: Record<ColumnHint, number> = { number: 0, auto: 1, string: 2 };

/**
 * How each column is read: numeric inputs and regression targets as numbers, categories,
 * labels, text, paths and groups as strings, short-form features to be detected
 * (numbers unless most cells are words), and every other column not at all.
 */
export function columnHints(data: TableData, tasks: Record<string, TaskConfig>, rotationTarget?: string): (name: string) => ColumnHint | undefined {
  const hints = new Map<string, ColumnHint>();
  const add = (name: string, hint: ColumnHint) => {
    const had = hints.get(name);
    if (!had || HINT_RANK[hint] > HINT_RANK[had]) hints.set(name, hint);
  };
  for (const task of Object.values(tasks)) {
    if (task.type === 'regression' && task.target === rotationTarget) continue;
    for (const c of targetColumns(task)) add(c, task.type === 'regression' ? 'number' : 'string');
  }
  if (data.split.group) add(data.split.group, 'string');
  if (data.inputs) for (const input of data.inputs) add(input.name, input.type === 'numeric' ? 'number' : 'string');
  else if (data.features) for (const f of data.features) add(f, featureHint(f, data.categorical));
  const shortForm = !data.inputs && !data.features;
  const allTargets = new Set(Object.values(tasks).flatMap(targetColumns));
  return (name) => hints.get(name) ?? (shortForm && !allTargets.has(name) ? featureHint(name, data.categorical) : undefined);
}

const featureHint = (name: string, categorical: string[] | undefined): ColumnHint => (categorical ? (categorical.includes(name) ? 'string' : 'number') : 'auto');

function loadTable(config: Config): LoadedData {
  const data = asTable(config.data as TableDataConfig | ImageFolderDataConfig);
  const na = new MissingValues(new Set(data.na_values));
  const notes = new LoadNotes();
  const rotation = data.rotation ? { ...data.rotation, seed: data.split.seed ?? config.seed } : undefined;
  const hint = columnHints(data, config.tasks, rotation?.target);
  const read = (file: string, key: string, h = hint) => readColumns(file, key, data.format, delimiterOf(data), { hint: h, na, limit: data.limit });
  const trainKey = data.path ? 'data.path' : 'data.splits.train';
  const trainTable = read(data.path ?? data.splits!.train, trainKey);
  const valTable = data.splits?.val ? read(data.splits.val, 'data.splits.val') : undefined;
  const testTable = data.splits?.test ? read(data.splits.test, 'data.splits.test') : undefined;
  return loadTables(config, data, { train: trainTable, val: valTable, test: testTable }, notes, (table, name) =>
    read(table.file, table === trainTable ? trainKey : table === valTable ? 'data.splits.val' : 'data.splits.test', (n) => (n === name ? 'string' : undefined)),
  );
}

/** Tables already read (CSV, JSONL, Parquet, image folders) -> LoadedData. */
export function loadTables(
  config: Config,
  data: TableData,
  tables: { train: Table; val?: Table; test?: Table },
  notes: LoadNotes,
  reread: (table: Table, name: string) => Table,
): LoadedData {
  const { train: trainTable, val: valTable, test: testTable } = tables;
  const rotation = data.rotation ? { ...data.rotation, seed: data.split.seed ?? config.seed } : undefined;
  const features = inputColumns(data, () => trainTable.header, config.tasks);
  if (features.length === 0) throw new DataError(`${trainTable.file}: no feature columns left besides the targets`, 'add feature columns or list them in data.features');
  const featureKey = data.inputs ? 'data.inputs' : data.features ? 'data.features' : 'the header';
  const frameFor = (table: Table) => {
    const frame = frameOf(table, features, config.tasks, featureKey, rotation);
    checkFrame(frame);
    return frame;
  };
  const trainFrame = frameFor(trainTable);
  // Every row of the file gets its split before any row is set aside for a missing value,
  // so models that read the file with other tasks or features still agree on each row's split.
  const fractions: Fractions = data.path ? data.split : carveFractions(data.split, !!valTable, !!testTable);
  const parts = splitRows(trainTable.size, fractions, data.split.seed ?? config.seed, trainTable.file, {
    strata: data.split.stratify ? stratumCells(trainFrame, data.split.stratify) : undefined,
    groups: data.split.group ? groupCells(trainTable, data.split.group) : undefined,
  });
  const whole = (frame: Frame): Part => ({ frame, rows: Array.from({ length: frame.table.size }, (_, i) => i) });
  let train: Part = { frame: trainFrame, rows: parts.train };
  let val: Part = valTable ? whole(frameFor(valTable)) : { frame: trainFrame, rows: parts.val };
  let test: Part = testTable ? whole(frameFor(testTable)) : { frame: trainFrame, rows: parts.test };
  const frames = [...new Set([train.frame, val.frame, test.frame])];

  const taskCount = Object.keys(config.tasks).length;
  [train, val, test] = setAside([train, val, test], unlabelledRows(data.missing_targets), data.missing_targets === 'drop' || taskCount === 1 ? 'a missing target' : 'no target of any task', notes);

  const inputs = data.inputs ?? detectInputs(features, trainFrame, data.categorical);
  rereadLossy(inputs, frames, reread);
  emptyMissingCells([train, val, test], inputs, notes);
  checkNumericCells([train, val, test], inputs, !data.inputs);

  if (data.missing === 'drop') {
    [train, val, test] = setAside([train, val, test], anyFeatureMissing, 'missing values (set data.missing: impute to keep them)', notes);
  }
  if (train.rows.length === 0) {
    throw new DataError(`${trainTable.file}: no train rows are left after dropping rows with missing values (${trainTable.size} rows in the file)`, 'fill in the missing cells, or set data.missing: impute and data.missing_targets: mask');
  }
  if (data.missing_targets === 'mask' && taskCount > 1) {
    for (const t of train.frame.tasks) {
      const missing = targetMissing(t);
      let lacking = 0;
      if (taskMissingRows(t, train.frame.table.size).length) for (let i = 0; i < train.rows.length; i++) if (missing(train.rows[i])) lacking++;
      if (lacking) notes.push(`task ${t.name}: ${lacking} of ${train.rows.length} train rows lack its label; its loss and metrics use the ${train.rows.length - lacking} that have it`);
    }
  }

  const specs = fitInputs(inputs, train, trainTable.file, data.standardize);
  // Classes: every label of the train file (explicit files: a label only in val/test is an error).
  const targets = fitTargets(trainFrame, train, data.standardize_targets, trainTable.file, notes);
  const preprocessing: Preprocessing = {
    kind: 'table',
    inputs: specs,
    csv: { format: data.format, delimiter: delimiterOf(data), naValues: data.na_values, missing: data.missing, missingTargets: data.missing_targets },
    rotation: rotation && { target: rotation.target, maxDegrees: rotation.max_degrees, seed: rotation.seed, input: rotationInput(rotation.input, specs) },
    targets,
  };
  if (data.missing === 'impute') {
    let imputed = 0;
    for (const { frame, rows } of [train, val, test]) {
      const missing = anyFeatureMissing(frame);
      if (missing !== NEVER) for (let i = 0; i < rows.length; i++) if (missing(rows[i])) imputed++;
    }
    if (imputed) notes.push(`imputed missing feature values in ${imputed} rows (train-split mean for numbers, mode for categories)`);
  }

  const unseen = { count: 0 };
  const tallies = new Map<string, number>();
  const encode = (part: Part, strictLabels: boolean) => encodeParts([part], preprocessing, config.tasks, { strictLabels, unseen, tallies, rotate: true });
  const result = { train: encode(train, true), val: encode(val, !data.path), test: encode(test, !data.path), preprocessing, notes: [] as string[] };
  inputs.forEach((input, f) => {
    if (input.type === 'image' && input.augment) result.train.inputs[f].augment = input.augment;
  });
  notes.push(...tallyNotes(tallies));
  const images = releaseDecodedImages();
  if (images.files) notes.push(`decoded ${images.files} image files in ${images.seconds.toFixed(1)}s (kept in memory for the run)`);
  if (preprocessing.rotation) notes.push(`rotated image input "${preprocessing.rotation.input}" of every row by a seeded random angle in ±${preprocessing.rotation.maxDegrees}° (target "${preprocessing.rotation.target}")`);
  if (unseen.count) notes.push(`${unseen.count} val/test rows hold a category never seen in training; it is encoded as unknown (all zeros one-hot)`);
  result.notes = notes.lines();
  return result;
}

/** Per frame, the rows without a target to train on: any task's missing (`drop`), or every task's (`mask`). */
export function unlabelledRows(policy: 'mask' | 'drop'): (frame: Frame) => (r: number) => boolean {
  return (frame) => {
    if (frame.tasks.length === 0) return NEVER;
    // Counted from the (few) rows that lack a label: one byte a row only when some do.
    const size = frame.table.size;
    const lacking = frame.tasks.map((t) => taskMissingRows(t, size));
    if (lacking.every((rows) => rows.length === 0)) return NEVER;
    const counts = new Uint8Array(size);
    for (const rows of lacking) for (const r of rows) counts[r]++;
    const all = frame.tasks.length;
    return policy === 'drop' ? (r) => counts[r] > 0 : (r) => counts[r] === all;
  };
}

/** Drops the rows `drop` picks from every part, with one note per file listing their lines. */
export function setAside(parts: Part[], dropOf: (frame: Frame) => (r: number) => boolean, why: string, notes: LoadNotes): Part[] {
  const dropped = new Map<string, number[]>();
  const out = parts.map(({ frame, rows }) => {
    const drop = dropOf(frame);
    if (drop === NEVER) return { frame, rows };
    const kept: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (!drop(r)) {
        kept.push(r);
        continue;
      }
      const file = fileOf(frame.table, r);
      let lines = dropped.get(file);
      if (!lines) dropped.set(file, (lines = []));
      lines.push(frame.table.lines[r]);
    }
    return { frame, rows: kept };
  });
  for (const [file, lines] of dropped) notes.dropped(file, why, lines.sort((a, b) => a - b));
  return dropped.size ? out : parts;
}

/** Present cells, and those of them that are not numbers, of a column (detection of the short form). */
export function wordCount(column: Column, size: number): { present: number; words: number } {
  if (column instanceof StringColumn) {
    const perCode = new Int32Array(column.strings.length);
    for (let r = 0; r < size; r++) perCode[column.codes[r]]++;
    let present = 0;
    let words = 0;
    column.strings.forEach((text, code) => {
      if (perCode[code] === 0 || column.missingCode(code)) return;
      present += perCode[code];
      if (!Number.isFinite(text === '' ? NaN : Number(text))) words += perCode[code];
    });
    return { present, words };
  }
  const numbers = column as NumberColumn;
  let missing = 0;
  let words = 0;
  for (const [r, text] of numbers.raw) {
    if (numbers.missing(r)) missing++;
    else if (!Number.isFinite(text === '' ? NaN : Number(text))) words++;
  }
  return { present: size - missing, words };
}

/**
 * The short form's inputs: a column is a category when most of its train-file values
 * are not numbers (a mostly-numeric column with a few words in it is a data error,
 * reported by checkNumericCells), unless data.categorical lists the categories.
 */
function detectInputs(features: string[], frame: Frame, categorical: string[] | undefined): InputConfig[] {
  checkCategorical(features, categorical);
  return features.map((name, f) => {
    const counts = () => wordCount(frame.features[f], frame.table.size);
    const category = categorical ? categorical.includes(name) : ((c) => c.words * 2 > c.present)(counts());
    return category ? { name, type: 'category', encoder: 'one_hot', dim: 8 } : { name, type: 'numeric' };
  });
}

export function checkCategorical(features: string[], categorical: string[] | undefined): void {
  for (const c of categorical ?? []) {
    if (!features.includes(c)) throw new DataError(`data.categorical names "${c}", which is not a feature column`, `feature columns: ${features.join(', ')}`);
  }
}

/** A category detected in a column that dropped some cells' text (non-canonical numbers): read that column again as strings. */
function rereadLossy(inputs: InputConfig[], frames: Frame[], reread: (table: Table, name: string) => Table): void {
  inputs.forEach((input, f) => {
    if (input.type === 'numeric') return;
    for (const frame of frames) {
      if (!frame.features[f].lossy) continue;
      const i = frame.table.header.indexOf(input.name);
      const again = reread(frame.table, input.name);
      frame.table.columns[i] = again.columns[i];
      frame.features[f] = again.columns[i]!;
    }
  });
}

/** Inputs that read a missing cell as an empty value (text): their cells read as '' and the log says how many. */
export function emptyMissingCells(parts: Part[], inputs: { name: string; type: string }[], notes: LoadNotes): void {
  inputs.forEach((input, f) => {
    if (!inputType(input.type).readsMissingAsEmpty) return;
    let count = 0;
    for (const frame of new Set(parts.map((p) => p.frame))) frame.emptyMissing[f] = true;
    for (const { frame, rows } of parts) for (let i = 0; i < rows.length; i++) if (frame.features[f].missing(rows[i])) count++;
    if (count) notes.emptyCells(input.name, input.type, count);
  });
}

/** The first present numeric cell that is not a number fit to train on, part by part and row by row, is an error. */
export function checkNumericCells(parts: Part[], inputs: InputConfig[], shortForm: boolean): void {
  const numeric = inputs.map((input, f) => [input, f] as const).filter(([input]) => input.type === 'numeric');
  if (numeric.length === 0) return;
  const badRows = new Map<Frame, (Set<number> | undefined)[]>();
  for (const frame of new Set(parts.map((p) => p.frame))) {
    badRows.set(
      frame,
      inputs.map((input, f) => {
        if (input.type !== 'numeric') return undefined;
        const bad = frame.features[f].irregular().filter((r) => !featureMissing(frame, f, r));
        return bad.length ? new Set(bad) : undefined;
      }),
    );
  }
  for (const { frame, rows } of parts) {
    const bad = badRows.get(frame)!;
    if (!bad.some(Boolean)) continue;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      for (const [input, f] of numeric) {
        if (!bad[f]?.has(r)) continue;
        const value = numericCell(frame.features[f].text(r), 'train on');
        if (value.ok) continue;
        const asCategory = shortForm ? `list "${input.name}" in data.categorical` : `give "${input.name}" type: category`;
        throw new DataError(`${fileOf(frame.table, r)}:${frame.table.lines[r]}: column "${input.name}" ${value.problem}`, `fix the cell, add it to data.na_values if it means "missing", or ${asCategory}`);
      }
    }
  }
}

function fitInputs(inputs: InputConfig[], train: Part, file: string, standardize: boolean): InputSpec[] {
  const { frame, rows } = train;
  return inputs.map((input, f) => {
    const column = frame.features[f];
    const none = frame.emptyMissing[f] || missingRows(column, frame.table.size).length === 0;
    const present: ArrayLike<number> = none ? rows : (Array.prototype.filter.call(rows, (r: number) => !featureMissing(frame, f, r)) as number[]);
    if (present.length === 0) throw new DataError(`${file}: column "${input.name}" has no values in the train split (all missing)`, 'drop it from the inputs, or fill it in');
    const type = inputType(input.type);
    const options = input.type === 'numeric' ? { standardize: input.standardize ?? standardize } : input;
    const first = present[0];
    let state: unknown;
    try {
      if (type.fitNumbers) {
        if (column instanceof NumberColumn) state = type.fitNumbers(column.values, options, present);
        else state = type.fitNumbers(Float64Array.from(present, (r) => column.value(r)), options);
      } else if (type.fitter) {
        const fitter = type.fitter(options, { file: fileOf(frame.table, first), lines: [] });
        if (column instanceof StringColumn && !frame.emptyMissing[f]) {
          // Once per distinct cell, in order of first appearance.
          const perCode = new Int32Array(column.strings.length);
          const order: number[] = [];
          for (let i = 0; i < present.length; i++) if (perCode[column.codes[present[i]]]++ === 0) order.push(column.codes[present[i]]);
          for (const code of order) fitter.add(column.strings[code], perCode[code]);
        } else {
          for (let i = 0; i < present.length; i++) fitter.add(column.missing(present[i]) ? '' : column.text(present[i]));
        }
        state = fitter.finish();
      } else {
        const cells = Array.from(present);
        state = type.fit(cells.map((r) => column.text(r)), options, { file: fileOf(frame.table, first), lines: cells.map((r) => frame.table.lines[r]) });
      }
    } catch (e) {
      if (e instanceof CellError) throw new DataError(`${fileOf(frame.table, first)}:${frame.table.lines[first]}: column "${input.name}" ${e.message}`, e.hint);
      throw e;
    }
    return { name: input.name, type: input.type, shape: type.shape(state), state };
  });
}

export function tallyNotes(tallies: Map<string, number>): string[] {
  return [...tallies].map(([key, count]) => {
    const [input, what] = key.split('\0');
    return `column "${input}": ${count} ${what}`;
  });
}

/** The image input a table's rotation turns: the one named, or the only one. */
export function rotationInput(name: string | undefined, specs: InputSpec[]): string {
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

/** Distinct labels of a classification task over rows, in order of first appearance. */
export function distinctLabels(frame: Frame, task: string, rows?: ArrayLike<number>): string[] {
  const t = frame.tasks.find((x) => x.name === task)!;
  const missing = targetMissing(t);
  const column = t.columns[0];
  const n = rows ? rows.length : frame.table.size;
  const out: string[] = [];
  if (column instanceof StringColumn && t.kind === 'classification') {
    // A classification target has one column: a row lacks its label when its code is missing.
    const seen = new Uint8Array(column.strings.length);
    for (let code = 0; code < seen.length; code++) if (column.missingCode(code)) seen[code] = 1;
    for (let i = 0; i < n; i++) {
      const code = column.codes[rows ? rows[i] : i];
      if (seen[code]) continue;
      seen[code] = 1;
      out.push(column.strings[code]);
    }
    return out;
  }
  if (column instanceof StringColumn) {
    const seen = new Uint8Array(column.strings.length);
    for (let i = 0; i < n; i++) {
      const r = rows ? rows[i] : i;
      const code = column.codes[r];
      if (seen[code] || missing(r)) continue;
      seen[code] = 1;
      out.push(column.strings[code]);
    }
    return out;
  }
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = rows ? rows[i] : i;
    if (missing(r)) continue;
    const text = column.text(r);
    if (!seen.has(text)) (seen.add(text), out.push(text));
  }
  return out;
}

function fitTargets(source: Frame, train: Part, standardize: boolean, file: string, notes: LoadNotes): Record<string, TargetTransform> {
  const out: Record<string, TargetTransform> = {};
  for (const t of source.tasks) {
    const { name, task } = t;
    const missing = targetMissing(t);
    const none = taskMissingRows(t, source.table.size).length === 0;
    const labelled: ArrayLike<number> = none ? train.rows : Array.prototype.filter.call(train.rows, (r: number) => !missing(r));
    if (labelled.length === 0) {
      throw new DataError(`${file}: task ${name} has no labelled row in the train split (column ${targetColumns(task).join(', ')} is missing in every train row)`, 'fill in its labels, or remove the task');
    }
    if (task.type === 'classification') {
      const classes = classNames(distinctLabels(source, name), task.num_classes, name);
      checkClasses(name, task, classes);
      const weights = task.class_weight === undefined ? undefined : classWeights(name, task, classes, classIndices(t.columns[0], labelled, classes));
      out[name] = { kind: 'classification', column: task.target, classes, ...(weights ? { weights } : {}) };
      if (weights) notes.push(`task ${name}: class weights ${describeWeights(classes, weights)} (class_weight${task.class_weight === 'balanced' ? ': balanced, from the train split' : ''})`);
    } else if (task.type === 'multilabel') {
      const sets = labelSets(t);
      const distinct = new Map<string[], true>();
      for (let r = 0; r < source.table.size; r++) {
        const set = sets(r);
        if (set) distinct.set(set, true);
      }
      const labels = multilabelLabels(name, task, [...distinct.keys()]);
      if (task.labels) {
        const known = new Set(labels);
        for (let r = 0; r < source.table.size; r++) {
          const unknown = sets(r)?.find((l) => !known.has(l));
          if (unknown !== undefined) throw new DataError(`${fileOf(source.table, r)}:${source.table.lines[r]}: task ${name}: label "${unknown}" is not in tasks.${name}.labels`, `add it to tasks.${name}.labels (${labels.join(', ')}), or remove it from the row`);
        }
      }
      const posWeights = positiveWeights(name, task, labels, Array.from(labelled, (r) => sets(r)!));
      out[name] = { kind: 'multilabel', column: task.target, labels, ...(posWeights ? { posWeights } : {}) };
      if (posWeights && typeof task.pos_weight !== 'number') notes.push(`task ${name}: positive weights ${describeWeights(labels, posWeights)} (pos_weight${task.pos_weight === 'balanced' ? ': balanced, from the train split' : ''})`);
    } else {
      const columns = targetColumns(task);
      const rot = source.rotation;
      const valueOf = (r: number, k: number) => (t.kind === 'derived' ? rotationAngle(rot!.seed, source.firstIndex + r, rot!.max_degrees) : t.columns[k].value(r));
      const valuesOf = (k: number): Float64Array => {
        const column = t.columns[k];
        const out = new Float64Array(labelled.length);
        if (t.kind !== 'derived' && column instanceof NumberColumn) for (let i = 0; i < labelled.length; i++) out[i] = column.values[labelled[i]];
        else for (let i = 0; i < labelled.length; i++) out[i] = valueOf(labelled[i], k);
        return out;
      };
      const moments = columns.map((_, k) => meanAndStd(valuesOf(k)));
      const mean = moments.map((m) => m.mean);
      const std = moments.map((m) => m.std);
      out[name] = standardize ? { kind: 'regression', columns, mean, std } : { kind: 'regression', columns, mean: columns.map(() => 0), std: columns.map(() => 1) };
    }
  }
  return out;
}

/** The mean and spread (1 when there is none) of a regression target, in two passes. */
function meanAndStd(values: Float64Array): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(squares / values.length) || 1 };
}

/** The class index of each row (by code for a string column: one lookup per distinct label). */
function classIndices(column: Column, rows: ArrayLike<number>, classes: string[]): Int32Array {
  const index = new Map(classes.map((c, i) => [c, i]));
  if (column instanceof StringColumn) {
    const byCode = Int32Array.from(column.strings, (s) => index.get(s) ?? -1);
    return Int32Array.from(rows, (r) => byCode[column.codes[r]]);
  }
  return Int32Array.from(rows, (r) => index.get(column.text(r))!);
}

/** Sorted distinct labels (numerically when all are numbers), padded to `numClasses`. */
export function classNames(labels: string[], numClasses: number | undefined, task: string): string[] {
  const distinct = [...new Set(labels)];
  const numeric = distinct.every((l) => l !== '' && Number.isFinite(Number(l)));
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

/**
 * Applies saved table preprocessing to a new CSV file (mtl eval --data, mtl predict).
 * strict: the first problem throws; otherwise problem rows are listed and left out.
 */
export function applyTablePreprocessing(...args: Parameters<typeof applyTable>): { split: Split; unscorable: UnscorableRow[]; notes: string[] } {
  releaseDecodedImages();
  try {
    const { split, unscorable, notes } = applyTable(...args);
    return { split, unscorable, notes: notes.lines() };
  } finally {
    releaseDecodedImages();
  }
}

/** How a file read with saved preprocessing reads its columns. */
export function savedHints(pre: Preprocessing, tasks: Record<string, TaskConfig>): (name: string) => ColumnHint | undefined {
  const hints = new Map<string, ColumnHint>();
  const add = (name: string, hint: ColumnHint) => {
    const had = hints.get(name);
    if (!had || HINT_RANK[hint] > HINT_RANK[had]) hints.set(name, hint);
  };
  for (const task of Object.values(tasks)) {
    if (pre.rotation?.input && task.type === 'regression' && task.target === pre.rotation.target) continue;
    for (const c of targetColumns(task)) add(c, task.type === 'regression' ? 'number' : 'string');
  }
  for (const spec of pre.inputs) add(spec.name, spec.type === 'numeric' ? 'number' : 'string');
  return (name) => hints.get(name);
}

/**
 * The tasks whose target columns a new file is read with: every task when its targets
 * are scored (eval); otherwise (predict) the multilabel ones, whose labels are checked
 * where the file carries their columns.
 */
export function targetsRead(tasks: Record<string, TaskConfig>, options: { requireTargets: boolean }): Record<string, TaskConfig> {
  return options.requireTargets ? tasks : Object.fromEntries(Object.entries(tasks).filter(([, task]) => task.type === 'multilabel'));
}

function applyTable(
  pre: Preprocessing,
  tasks: Record<string, TaskConfig>,
  file: string,
  options: { requireTargets: boolean; strict: boolean },
): { split: Split; unscorable: UnscorableRow[]; notes: LoadNotes } {
  const csv = pre.csv!;
  const table = readColumns(file, '--data', tableFormatOf(file, csv.format), csv.delimiter, { hint: savedHints(pre, targetsRead(tasks, options)), na: new MissingValues(new Set(csv.naValues)) });
  return applyToTable(pre, tasks, table, options);
}

/** Saved preprocessing on a table already read. */
export function applyToTable(pre: Preprocessing, tasks: Record<string, TaskConfig>, table: Table, options: { requireTargets: boolean; strict: boolean }): { split: Split; unscorable: UnscorableRow[]; notes: LoadNotes } {
  const csv = pre.csv!;
  const read = options.requireTargets ? tasks : {};
  const features = pre.inputs.map((c) => c.name);
  const notes = new LoadNotes();
  const rotation = pre.rotation?.input && options.requireTargets ? { target: pre.rotation.target, max_degrees: pre.rotation.maxDegrees, seed: pre.rotation.seed } : undefined;
  const frame = frameOf(table, features, read, 'the training data', rotation);
  checkFrame(frame);
  if (!options.requireTargets) {
    const carried = Object.fromEntries(Object.entries(targetsRead(tasks, options)).filter(([, task]) => table.header.includes(targetColumns(task)[0])));
    checkKnownLabels(frameOf(table, [], carried, 'the training data'), pre);
  }
  let part: Part = { frame, rows: Array.from({ length: table.size }, (_, i) => i) };
  // Rows are dropped as training dropped them; predict reports rows it cannot score instead.
  [part] = setAside([part], unlabelledRows(csv.missingTargets), 'no target to score', notes);
  emptyMissingCells([part], pre.inputs, notes);
  if (options.strict && csv.missing === 'drop') {
    [part] = setAside([part], anyFeatureMissing, 'missing values (the model was trained with data.missing: drop)', notes);
  }
  const unscorable: UnscorableRow[] = [];
  const split = encodeParts([part], pre, tasks, {
    strictLabels: true,
    unseen: { count: 0 },
    unscorable: options.strict ? undefined : unscorable,
    requireTargets: options.requireTargets,
    rotate: options.requireTargets,
  });
  return { split, unscorable, notes };
}

export function delimiterOf(data: TableData): string {
  return 'delimiter' in data && typeof data.delimiter === 'string' ? data.delimiter : ',';
}

/** A new file for eval/predict: a folder, .jsonl/.ndjson, .parquet or .csv by its name, else the training format. */
export function tableFormatOf(file: string, trained: TableFormat): TableFormat {
  if (existsSync(file) && statSync(file).isDirectory()) return 'image_folder';
  if (/\.(jsonl|ndjson)(\.gz)?$/i.test(file)) return 'jsonl';
  if (/\.parquet$/i.test(file)) return 'parquet';
  if (/\.csv(\.gz)?$/i.test(file)) return 'csv';
  return trained;
}

/** Per row, the stratify task's label (null when missing). */
function stratumCells(frame: Frame, task: string): (string | null)[] {
  const t = frame.tasks.find((x) => x.name === task)!;
  const missing = targetMissing(t);
  return Array.from({ length: frame.table.size }, (_, r) => (missing(r) ? null : t.columns[0].text(r)));
}

/** The cells of the data.split.group column; a missing one is an error (its group is unknown). */
export function groupCells(table: Table, column: string): string[] {
  const i = columnIndex(table, column, 'data.split.group');
  const cells = table.columns[i]!;
  return Array.from({ length: table.size }, (_, r) => {
    if (cells.missing(r)) {
      throw new DataError(`${fileOf(table, r)}:${table.lines[r]}: column "${column}" (data.split.group) is missing`, 'every row needs its group to be split; fill it in or drop the row');
    }
    return cells.text(r);
  });
}
