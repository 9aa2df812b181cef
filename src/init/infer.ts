/**
 * `mtl init data.csv --task species:classification --task body_mass_g`: a starter
 * experiment file for a table, every column typed from the data (numbers, categories,
 * text, image paths), a split, and a backbone that fits the inputs.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { JSON_SCHEMA_FILE, schemaComment } from '../config/json-schema';
import { defaultNaValues } from '../config/schema';
import { readTable, parseNumber, type CsvTable } from '../data/csv';
import { ConfigError } from '../errors';
import { packageRoot } from '../version';

/** Rows read to type the columns. */
const SAMPLE_ROWS = 5000;
const IMAGE_EXTENSIONS = /\.(png|jpe?g)$/i;

export type ColumnKind = 'numeric' | 'category' | 'text' | 'image' | 'skipped';

export interface InferredColumn {
  name: string;
  kind: ColumnKind;
  /** Why, in a few words (printed by mtl init). */
  reason: string;
}

export interface InferredTask {
  name: string;
  type: 'classification' | 'regression';
  /** The type came from the data, not from --task. */
  inferred: boolean;
  reason: string;
}

export interface StarterConfig {
  yaml: string;
  columns: InferredColumn[];
  tasks: InferredTask[];
}

/** `name` or `name:classification|regression`. */
export function parseTaskFlag(flag: string): { name: string; type?: 'classification' | 'regression' } {
  const [name, type, ...rest] = flag.split(':');
  if (!name || rest.length > 0 || (type !== undefined && type !== 'classification' && type !== 'regression')) {
    throw new ConfigError(`--task ${flag}: expected <column> or <column>:classification|regression`, 'for example --task species:classification --task body_mass_g:regression');
  }
  return { name, type: type as 'classification' | 'regression' | undefined };
}

const missing = new Set<string>(defaultNaValues);

/** The column's cells that are not missing. */
function cells(table: CsvTable, column: number): string[] {
  return table.rows.map((r) => r[column]).filter((c) => !missing.has(c));
}

/** What a column holds: numbers, paths of image files next to the data, free text, categories, or nothing usable (ids, empty). */
export function inferColumn(table: CsvTable, column: number, dataDir: string): InferredColumn {
  const name = table.header[column];
  const values = cells(table, column);
  if (values.length === 0) return { name, kind: 'skipped', reason: 'empty' };
  const distinct = new Set(values).size;
  if (values.every((v) => parseNumber(v) !== undefined)) return { name, kind: 'numeric', reason: `numbers (${distinct} distinct)` };
  if (values.every((v) => IMAGE_EXTENSIONS.test(v))) {
    const found = values.slice(0, 20).every((v) => existsSync(path.resolve(dataDir, v)));
    return found ? { name, kind: 'image', reason: 'paths of image files' } : { name, kind: 'skipped', reason: 'image paths, but the files are not next to the data' };
  }
  const words = values.reduce((n, v) => n + v.split(/\s+/).length, 0) / values.length;
  if (words >= 4) return { name, kind: 'text', reason: `free text (${words.toFixed(1)} words a cell)` };
  if (distinct === values.length && values.length > 20) return { name, kind: 'skipped', reason: 'a different value in every row (an id?)' };
  return { name, kind: 'category', reason: `${distinct} categories` };
}

function inferTask(table: CsvTable, column: number, name: string, given?: 'classification' | 'regression'): InferredTask {
  if (given) return { name, type: given, inferred: false, reason: 'as given' };
  const values = cells(table, column);
  const numeric = values.every((v) => parseNumber(v) !== undefined);
  const distinct = new Set(values).size;
  if (numeric && distinct > 20) return { name, type: 'regression', inferred: true, reason: `numbers with ${distinct} distinct values` };
  return { name, type: 'classification', inferred: true, reason: numeric ? `only ${distinct} distinct numbers` : `${distinct} classes` };
}

/** The starter config for `file` (CSV or JSONL by its name) with `taskFlags`; `configDir` is where it will be written. */
export function starterConfig(file: string, taskFlags: string[], configDir: string): StarterConfig {
  if (taskFlags.length === 0) throw new ConfigError('mtl init needs at least one --task <column>[:classification|regression]', 'for example mtl init data.csv --task species:classification --task body_mass_g:regression');
  const format = /\.jsonl$/i.test(file) ? 'jsonl' : 'csv';
  const table = readTable(file, 'the data file', format, ',', SAMPLE_ROWS);
  const dataDir = path.dirname(path.resolve(file));
  const taskSpecs = taskFlags.map(parseTaskFlag);
  const index = (name: string) => {
    const i = table.header.indexOf(name);
    if (i < 0) throw new ConfigError(`--task ${name}: ${file} has no column "${name}"`, `its columns: ${table.header.join(', ')}`);
    return i;
  };
  const tasks = taskSpecs.map((t) => inferTask(table, index(t.name), t.name, t.type));
  const targetColumns = new Set(tasks.map((t) => t.name));
  const columns = table.header.map((_, i) => i).filter((i) => !targetColumns.has(table.header[i])).map((i) => inferColumn(table, i, dataDir));
  const inputs = columns.filter((c) => c.kind !== 'skipped');
  if (inputs.length === 0) throw new ConfigError(`${file}: no column is left to learn from besides the tasks' targets`, 'add input columns to the data');

  const images = inputs.filter((c) => c.kind === 'image');
  const onlyImage = images.length === 1 && inputs.length === 1;
  const firstClassification = tasks.find((t) => t.type === 'classification');
  const config = {
    name: path.basename(file).replace(/\.(csv|jsonl)$/i, '').replace(/[^A-Za-z0-9_-]/g, '_').replace(/^[^A-Za-z]+/, '') || 'experiment',
    seed: 42,
    data: {
      format,
      path: path.relative(configDir, path.resolve(file)) || path.basename(file),
      inputs: inputs.map((c) => ({ name: c.name, type: c.kind })),
      split: { train: 0.7, val: 0.15, test: 0.15, ...(firstClassification ? { stratify: firstClassification.name } : {}) },
    },
    model: {
      backbone: onlyImage ? { type: 'resnet', filters: [16, 32, 64], blocks: [1, 1, 1] } : { type: 'mlp', units: [64, 64], dropout: 0.1 },
    },
    tasks: Object.fromEntries(tasks.map((t) => [t.name.replace(/[^A-Za-z0-9_-]/g, '_').replace(/^[^A-Za-z]+/, 't_'), { type: t.type, target: t.name }])),
    training: { epochs: 30, batch_size: 32, optimizer: { type: 'adam', learning_rate: 0.001 }, early_stopping: { patience: 5 } },
    output: { dir: 'runs' },
  };
  const header = [
    schemaComment(path.relative(configDir, path.join(packageRoot, JSON_SCHEMA_FILE))),
    `# Written by mtl init from ${path.basename(file)}: check the column types and the tasks, then: mtl train <this file>`,
  ];
  return { yaml: `${header.join('\n')}\n${stringify(config, { flowCollectionPadding: false })}`, columns, tasks };
}
