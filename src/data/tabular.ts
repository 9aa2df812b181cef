/**
 * CSV tables -> model inputs: numeric columns standardized, categorical columns
 * one-hot encoded, missing values dropped or imputed, targets encoded. Everything
 * is fitted on the train split only and recorded in `Preprocessing`, so eval and
 * predict transform new files exactly as training did.
 */
import type { Config, TableDataConfig, TaskConfig } from '../config/schema';
import { DataError } from '../errors';
import { columnIndex, numericCell, parseNumber, readTable, type CsvTable } from './csv';
import { MISSING_CELL } from './jsonl';
import { UNLABELLED_CLASS } from './labels';
import { carveFractions, splitIndices, type Fractions } from './split';
import type { ColumnTransform, LoadedData, Preprocessing, Split, TargetTransform, UnscorableRow } from './types';

/** A CSV row after reading, before encoding. */
interface Row {
  table: CsvTable;
  index: number;
  line: number;
  /** Feature cells by feature position; null = missing. */
  features: (string | null)[];
  /** Per task: the label (classification) or the values (regression). */
  targets: Record<string, string | number[] | null>;
}

function targetColumns(task: TaskConfig): string[] {
  return Array.isArray(task.target) ? task.target : [task.target];
}

const lineList = (lines: number[]) => lines.slice(0, 5).join(', ') + (lines.length > 5 ? `, ... (${lines.length} in all)` : '');

/**
 * The feature columns a CSV config trains on: data.features, or every column of the
 * train file that is no task's target. mtl compare fixes them for all its models, so a
 * single-task model never takes the other tasks' targets as inputs.
 */
export function featureColumns(config: Config): string[] {
  const data = config.data as TableDataConfig;
  if (data.features) return data.features;
  const table = readTable(data.path ?? data.splits!.train, data.path ? 'data.path' : 'data.splits.train', data.format, delimiterOf(data));
  const allTargets = new Set(Object.values(config.tasks).flatMap(targetColumns));
  return table.header.filter((c) => !allTargets.has(c));
}

export function loadCsvData(config: Config): LoadedData {
  const data = config.data as TableDataConfig;
  const naValues = new Set(data.na_values);
  const notes: string[] = [];
  const read = (file: string, key: string) => readTable(file, key, data.format, delimiterOf(data), data.limit);
  const trainTable = data.path ? read(data.path, 'data.path') : read(data.splits!.train, 'data.splits.train');
  const valTable = data.splits?.val ? read(data.splits.val, 'data.splits.val') : undefined;
  const testTable = data.splits?.test ? read(data.splits.test, 'data.splits.test') : undefined;

  const allTargets = new Set(Object.values(config.tasks).flatMap(targetColumns));
  const features = data.features ?? trainTable.header.filter((c) => !allTargets.has(c));
  if (features.length === 0) throw new DataError(`${trainTable.file}: no feature columns left besides the targets`, 'add feature columns or list them in data.features');

  const rowsOf = (table: CsvTable) => readRows(table, features, config.tasks, naValues, data.features ? 'data.features' : 'the header');
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

  // Auto-detection: a column is categorical when most of its values are not numbers; a
  // mostly-numeric column with a few words in it is a data error, reported below.
  const mostlyText = (f: number) => {
    const present = trainFileRows.map((r) => r.features[f]).filter((c): c is string => c !== null);
    return present.filter((c) => parseNumber(c) === undefined).length * 2 > present.length;
  };
  const categorical = new Set(data.categorical ?? features.filter((_, f) => mostlyText(f)));
  for (const c of categorical) {
    if (!features.includes(c)) throw new DataError(`data.categorical names "${c}", which is not a feature column`, `feature columns: ${features.join(', ')}`);
  }
  for (const rows of [train, val, test]) checkNumericCells(rows, features, categorical);

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

  const columns = fitColumns(features, categorical, train, trainTable.file);
  // Classes: every label of the train file (explicit files: a label only in val/test is an error).
  const targets = fitTargets(config, trainFileRows, train, data.standardize_targets, trainTable.file);
  if (data.standardize === false) for (const c of columns) if (c.kind === 'numeric') Object.assign(c, { mean: 0, std: 1 });
  const width = columns.reduce((n, c) => n + (c.kind === 'numeric' ? 1 : c.categories.length), 0);
  const preprocessing: Preprocessing = {
    kind: 'table',
    featureShape: [width],
    columns,
    csv: { format: data.format, delimiter: delimiterOf(data), naValues: data.na_values, missing: data.missing, missingTargets: data.missing_targets },
    targets,
  };
  if (data.missing === 'impute') {
    const imputed = [...train, ...val, ...test].filter((r) => r.features.some((c) => c === null)).length;
    if (imputed) notes.push(`imputed missing feature values in ${imputed} rows (train-split mean for numbers, mode for categories)`);
  }

  const unseen = { count: 0 };
  const encode = (rows: Row[], strictLabels: boolean) => encodeRows(rows, preprocessing, config.tasks, { strictLabels, unseen });
  const result = { train: encode(train, true), val: encode(val, !data.path), test: encode(test, !data.path), preprocessing, notes };
  if (unseen.count) notes.push(`${unseen.count} val/test rows hold a category never seen in training; it is encoded as all zeros`);
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

function readRows(table: CsvTable, features: string[], tasks: Record<string, TaskConfig>, naValues: Set<string>, featureKey: string): Row[] {
  const featureIdx = features.map((f) => columnIndex(table, f, featureKey));
  const taskCols = Object.entries(tasks).map(([name, t]) => [name, t, targetColumns(t).map((c) => columnIndex(table, c, `tasks.${name}.target`))] as const);
  const isMissing = (cell: string) => cell === MISSING_CELL || naValues.has(cell);
  return table.rows.map((cells, index) => {
    const line = table.lines[index];
    const targets: Record<string, string | number[] | null> = {};
    for (const [name, task, idx] of taskCols) {
      if (idx.some((i) => isMissing(cells[i]))) {
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
    return { table, index, line, features: featureIdx.map((i) => (isMissing(cells[i]) ? null : cells[i])), targets };
  });
}

function checkNumericCells(rows: Row[], features: string[], categorical: Set<string>): void {
  for (const row of rows) {
    features.forEach((name, f) => {
      const cell = row.features[f];
      if (cell === null || categorical.has(name)) return;
      const value = numericCell(cell, 'train on');
      if (!value.ok) {
        throw new DataError(`${row.table.file}:${row.line}: column "${name}" ${value.problem}`, `fix the cell, add it to data.na_values if it means "missing", or list "${name}" in data.categorical`);
      }
    });
  }
}

function fitColumns(features: string[], categorical: Set<string>, train: Row[], file: string): ColumnTransform[] {
  return features.map((name, f) => {
    const present = train.map((r) => r.features[f]).filter((c): c is string => c !== null);
    if (present.length === 0) throw new DataError(`${file}: column "${name}" has no values in the train split (all missing)`, 'drop it from data.features, or fill it in');
    if (categorical.has(name)) {
      const counts = new Map<string, number>();
      for (const c of present) counts.set(c, (counts.get(c) ?? 0) + 1);
      const categories = [...counts.keys()].sort();
      const fill = categories.reduce((best, c) => (counts.get(c)! > counts.get(best)! ? c : best), categories[0]);
      return { kind: 'categorical', name, categories, fill };
    }
    const values = present.map(Number);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
    const std = Math.sqrt(variance);
    return { kind: 'numeric', name, mean, std: std > 0 ? std : 1, fill: mean };
  });
}

function fitTargets(config: Config, classSource: Row[], trainSplit: Row[], standardize: boolean, file: string): Record<string, TargetTransform> {
  const out: Record<string, TargetTransform> = {};
  for (const [name, task] of Object.entries(config.tasks)) {
    const train = trainSplit.filter((r) => r.targets[name] !== null);
    if (train.length === 0) {
      throw new DataError(`${file}: task ${name} has no labelled row in the train split (column ${targetColumns(task).join(', ')} is missing in every train row)`, 'fill in its labels, or remove the task');
    }
    if (task.type === 'classification') {
      const labels = classSource.map((r) => r.targets[name]).filter((t): t is string => t !== null);
      out[name] = { kind: 'classification', column: task.target, classes: classNames(labels, task.num_classes, name) };
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
  /** A label outside the known classes is an error (explicit files) rather than impossible. */
  strictLabels: boolean;
  unseen: { count: number };
  /** Collect problems per row instead of throwing (predict). */
  unscorable?: UnscorableRow[];
  requireTargets?: boolean;
}

function encodeRows(rows: Row[], pre: Preprocessing, tasks: Record<string, TaskConfig>, options: EncodeOptions): Split {
  const columns = pre.columns!;
  const width = pre.featureShape[0];
  const kept: { row: Row; values: Float32Array }[] = [];
  for (const row of rows) {
    try {
      kept.push({ row, values: encodeFeatures(row, columns, width, pre.csv!.missing, options) });
    } catch (e) {
      if (options.unscorable && e instanceof DataError) options.unscorable.push({ row: row.line, reason: e.message.replace(/^[^:]+:\d+: /, '') });
      else throw e;
    }
  }
  const n = kept.length;
  const features = new Float32Array(n * width);
  kept.forEach((k, i) => features.set(k.values, i * width));
  const targets: Split['targets'] = {};
  if (options.requireTargets !== false) {
    for (const name of Object.keys(tasks)) {
      const t = pre.targets[name];
      if (t.kind === 'classification') {
        const index = new Map(t.classes.map((c, i) => [c, i]));
        targets[name] = Int32Array.from(kept, ({ row }) => {
          const label = row.targets[name] as string | null;
          if (label === null) return UNLABELLED_CLASS;
          const i = index.get(label);
          if (i === undefined) {
            throw new DataError(`${row.table.file}:${row.line}: task ${name}: class "${label}" was never seen in training`, `the model knows ${t.classes.join(', ')}; remove the row or retrain with it`);
          }
          return i;
        });
      } else {
        const k = t.columns.length;
        const out = new Float32Array(n * k);
        kept.forEach(({ row }, i) => {
          const values = row.targets[name] as number[] | null;
          for (let j = 0; j < k; j++) out[i * k + j] = values ? (values[j] - t.mean[j]) / t.std[j] : NaN;
        });
        targets[name] = out;
      }
    }
  }
  return { size: n, featureShape: [width], features, targets, rows: Int32Array.from(kept, (k) => k.row.line) };
}

function encodeFeatures(row: Row, columns: ColumnTransform[], width: number, missing: 'drop' | 'impute', options: EncodeOptions): Float32Array {
  const out = new Float32Array(width);
  let o = 0;
  columns.forEach((c, f) => {
    let cell = row.features[f];
    if (cell === null) {
      if (missing === 'drop' && options.unscorable) throw new DataError(`${row.table.file}:${row.line}: column "${c.name}" is missing`);
      cell = c.kind === 'numeric' ? String(c.fill) : c.fill;
    }
    if (c.kind === 'numeric') {
      const value = numericCell(cell, 'score');
      if (!value.ok) throw new DataError(`${row.table.file}:${row.line}: column "${c.name}" ${value.problem}`, 'fix the cell or mark it missing');
      out[o++] = (value.value - c.mean) / c.std;
    } else {
      const k = c.categories.indexOf(cell);
      if (k < 0) {
        if (options.strictLabels || options.unscorable) {
          throw new DataError(`${row.table.file}:${row.line}: column "${c.name}" holds "${cell}", a category never seen in training`, `known categories: ${c.categories.join(', ')}`);
        }
        options.unseen.count++;
      } else {
        out[o + k] = 1;
      }
      o += c.categories.length;
    }
  });
  return out;
}

/**
 * Applies saved table preprocessing to a new CSV file (mtl eval --data, mtl predict).
 * strict: the first problem throws; otherwise problem rows are listed and left out.
 */
export function applyTablePreprocessing(
  pre: Preprocessing,
  tasks: Record<string, TaskConfig>,
  file: string,
  options: { requireTargets: boolean; strict: boolean },
): { split: Split; unscorable: UnscorableRow[]; notes: string[] } {
  const csv = pre.csv!;
  const table = readTable(file, '--data', tableFormatOf(file, csv.format ?? 'csv'), csv.delimiter);
  const features = pre.columns!.map((c) => c.name);
  const notes: string[] = [];
  let rows = readRows(table, features, options.requireTargets ? tasks : {}, new Set(csv.naValues), 'the training data');
  // Rows are dropped as training dropped them (models of older versions dropped any row
  // missing a target); predict reports rows it cannot score instead.
  const byTarget = (r: Row) => Object.values(r.targets);
  const unlabelled = (csv.missingTargets ?? 'drop') === 'drop' ? (r: Row) => byTarget(r).some((t) => t === null) : (r: Row) => byTarget(r).length > 0 && byTarget(r).every((t) => t === null);
  [rows] = setAside([rows], unlabelled, 'no target to score', notes);
  if (options.strict && csv.missing === 'drop') {
    [rows] = setAside([rows], (r) => r.features.some((c) => c === null), 'missing values (the model was trained with data.missing: drop)', notes);
  }
  const unscorable: UnscorableRow[] = [];
  const split = encodeRows(rows, pre, tasks, {
    strictLabels: true,
    unseen: { count: 0 },
    unscorable: options.strict ? undefined : unscorable,
    requireTargets: options.requireTargets,
  });
  return { split, unscorable, notes };
}

function delimiterOf(data: TableDataConfig): string {
  return data.format === 'csv' ? data.delimiter : ',';
}

/** A new file for eval/predict: .jsonl/.ndjson or .csv by its name, else the training format. */
function tableFormatOf(file: string, trained: 'csv' | 'jsonl'): 'csv' | 'jsonl' {
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
