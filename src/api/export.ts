/**
 * `mtl export <run> --out DIR`: a folder a web page uses as it is. model.json and
 * weights.bin (a tfjs layers model that tf.loadLayersModel reads), preprocessing.json
 * (the checkpoint's fitted preprocessing and its tasks), predict.js (an ES module:
 * `predict(rows)` gives what `mtl predict --out preds.jsonl` gives, with mtl's own
 * transforms, see src/outputs/web/), the tfjs bundles it imports (copied from
 * node_modules, so it works offline) and index.html, which scores a few rows of the
 * run's test data. The weights are checked as every load checks them (SHA-256).
 */
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { initBackend } from '../backends';
import type { Config, TableDataConfig } from '../config/schema';
import { MISSING_CELL } from '../data/columns';
import { readTable } from '../data/csv';
import { isGlob } from '../data/files';
import { loadData } from '../data/load';
import { streamingChoice } from '../data/stream';
import { delimiterOf } from '../data/tabular';
import type { Preprocessing } from '../data/types';
import { ExitCode, UserError } from '../errors';
import type { TextState } from '../inputs/text';
import { writeFileAtomic } from '../outputs/atomic';
import { layersModelJson, loadCheckpoint, MODEL_FILE, modelArtifacts, readCheckpointMeta, sha256 } from '../outputs/checkpoint';
import type { CheckpointMeta } from '../outputs/checkpoint-meta';
import { resolveCheckpoint, type CheckpointName } from '../outputs/run-dir';
import { indexHtml } from '../outputs/web/index-html';
import { PREPROCESSING_FILE, TFJS_BUNDLES, WEB_INPUT_TYPES, predictModuleSource } from '../outputs/web/predict-js';
import type { WebRow } from '../outputs/web/rows';
import { mtlVersion } from '../version';
import type { Output } from './output-types';
import { disposeModel } from '../models/inference-fold';

export interface ExportArgs {
  /** A run folder, or one of its checkpoints/<best|last> folders. */
  location: string;
  out: string;
  /** Which checkpoint of a run folder (default: best, else last). */
  checkpoint?: CheckpointName;
  /** Rows of the test data index.html shows (default 5). */
  examples?: number;
}

export interface ExportResult {
  dir: string;
  checkpoint: string;
  /** The files written, relative to `dir`. */
  files: string[];
  /** Rows embedded in index.html. */
  examples: number;
}

/** What preprocessing.json holds: everything predict.js needs besides the model. */
export interface WebExport {
  format: 'mtl-web-export';
  version: 1;
  mtlVersion: string;
  name: string;
  /** The input columns a row gives, in the model's order. */
  inputs: { name: string; type: string }[];
  /** Task names in the model's output order. */
  outputs: string[];
  tasks: Config['tasks'];
  preprocessing: Preprocessing;
  checkpoint: { name: string; epoch: number };
}

export const WEIGHTS_FILE = 'weights.bin';
const DEFAULT_EXAMPLES = 5;

export async function exportCommand(args: ExportArgs, out: Output): Promise<ExportResult> {
  const checkpoint = exportedCheckpoint(args.location, args.checkpoint);
  const meta = readCheckpointMeta<CheckpointMeta>(checkpoint);
  if (meta.format !== 'mtl-checkpoint') throw new UserError(`${path.join(checkpoint, 'model.json')}: not an mtl checkpoint (it has no mtl metadata)`, { exitCode: ExitCode.usage });
  refuseUnsupported(meta, args.location);
  const dir = path.resolve(args.out);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`--out ${args.out}: is a file, expected a folder`, { exitCode: ExitCode.usage, hint: 'name a new or existing folder' });

  await initBackend({ device: 'cpu', backend: 'cpu' });
  // The load checks every weights file's size and SHA-256 (a damaged one is exit 1, naming it).
  const loaded = await loadCheckpoint<CheckpointMeta>(checkpoint);
  Object.values(loaded.extras).forEach((group) => group.forEach((t) => t.tensor.dispose()));
  const artifacts = await modelArtifacts(loaded.model);
  disposeModel(loaded.model);

  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, data: string | Uint8Array) => {
    writeFileAtomic(path.join(dir, name), data);
    files.push(name);
  };
  write(WEIGHTS_FILE, artifacts.weights);
  write(MODEL_FILE, JSON.stringify(layersModelJson(artifacts, WEIGHTS_FILE, { mtlSha256: { [WEIGHTS_FILE]: sha256(artifacts.weights) } }, `mtl ${mtlVersion} (mtl export)`)));
  const web = webExport(meta, checkpoint);
  write(PREPROCESSING_FILE, JSON.stringify(web, null, 1));
  write('predict.js', predictModuleSource(mtlVersion));
  for (const bundle of TFJS_BUNDLES) {
    copyFileSync(path.join(path.dirname(require.resolve(`${bundle.pkg}/package.json`)), 'dist', bundle.file), path.join(dir, bundle.file));
    files.push(bundle.file);
  }
  const examples = await exampleRows(meta.config, meta.preprocessing, args.examples ?? DEFAULT_EXAMPLES);
  if (examples.note) out.log(`note: ${examples.note}`);
  write('index.html', indexHtml(web.name, web.inputs.map((i) => i.name), examples.rows, examples.source));

  out.log(`exported ${checkpoint} (epoch ${meta.epoch}) to ${dir}: ${files.join(', ')}`);
  out.log(`open it over HTTP, e.g. (cd ${args.out} && python3 -m http.server 8000), then http://localhost:8000/ (browsers do not load modules from file://)`);
  return { dir, checkpoint, files, examples: examples.rows.length };
}

/** The checkpoint to export: --checkpoint of a run folder, a checkpoint folder itself, or the run's best (else last). */
function exportedCheckpoint(location: string, which: CheckpointName | undefined): string {
  const { checkpoint, run } = resolveCheckpoint(location);
  if (!which) return checkpoint;
  const isRun = path.resolve(location) === run?.path;
  if (!isRun) throw new UserError(`${location} is a checkpoint folder; --checkpoint picks one of a run folder's checkpoints`, { exitCode: ExitCode.usage, hint: 'pass the run folder with --checkpoint, or the checkpoint folder alone' });
  const dir = run!.checkpoint(which);
  if (!existsSync(path.join(dir, 'model.json'))) throw new UserError(`${location}: has no checkpoints/${which}`, { exitCode: ExitCode.usage, hint: `export checkpoints/${which === 'best' ? 'last' : 'best'} instead` });
  return dir;
}

/** Image inputs (and IDX runs) are refused: predict.js does not decode images. */
function refuseUnsupported(meta: CheckpointMeta, location: string): void {
  const hint = 'score image runs with mtl predict RUN --data FILE, or over HTTP with mtl serve RUN';
  if (meta.preprocessing.kind !== 'table') {
    throw new UserError(`${location}: mtl export writes tables and text for the browser; this run reads an IDX images file, and predict.js does not decode images`, { exitCode: ExitCode.usage, hint });
  }
  const other = meta.preprocessing.inputs.find((i) => !(WEB_INPUT_TYPES as readonly string[]).includes(i.type));
  if (other) {
    throw new UserError(`${location}: input "${other.name}" is of type ${other.type}; mtl export supports ${WEB_INPUT_TYPES.join(', ')} inputs (predict.js does not decode images)`, { exitCode: ExitCode.usage, hint });
  }
}

function webExport(meta: CheckpointMeta, checkpoint: string): WebExport {
  const pre = meta.preprocessing;
  // A text input's pretrained-embeddings path names a file on this machine and is not needed to encode text.
  const inputs = pre.inputs.map((spec) => (spec.type === 'text' ? { ...spec, state: { ...(spec.state as TextState), embeddings: undefined } } : spec));
  return {
    format: 'mtl-web-export',
    version: 1,
    mtlVersion,
    name: meta.config.name ?? 'model',
    inputs: pre.inputs.map((i) => ({ name: i.name, type: i.type })),
    outputs: Object.keys(meta.config.tasks),
    tasks: meta.config.tasks,
    preprocessing: { ...pre, inputs },
    checkpoint: { name: path.basename(checkpoint), epoch: meta.epoch },
  };
}

/**
 * The first `n` rows of the run's test split, their input cells as the data file has
 * them; the first rows of the file where the split cannot be rebuilt (streamed or
 * sharded data), none where the file is gone.
 */
async function exampleRows(config: Config, pre: Preprocessing, n: number): Promise<{ rows: WebRow[]; source: string; note?: string }> {
  const data = config.data as TableDataConfig;
  const file = data.splits ? (data.splits.test ?? data.splits.train) : data.path;
  if (n <= 0) return { rows: [], source: '' };
  if (!file || isGlob(file) || (data.format !== 'csv' && data.format !== 'jsonl')) {
    return { rows: [], source: '', note: `index.html has no example rows (the run's data is ${isGlob(file ?? '') ? 'sharded' : data.format}); put rows into its "examples" script` };
  }
  const names = pre.inputs.map((i) => i.name);
  const toRow = (header: string[], cells: string[]): WebRow => Object.fromEntries(names.map((c) => [c, cells[header.indexOf(c)] === MISSING_CELL ? null : (cells[header.indexOf(c)] ?? null)]));
  try {
    if (!streamingChoice(config).stream) {
      const { test } = await loadData(config);
      if (test.size > 0) {
        const wanted = Array.from(test.rows.subarray(0, n));
        const table = readTable(file, 'data.path', data.format, delimiterOf(data));
        const byLine = new Map(table.lines.map((line, r) => [line, r]));
        const rows = wanted.map((line) => toRow(table.header, table.rows[byLine.get(line)!]));
        return { rows, source: `from the run's test split (${path.basename(file)}, lines ${wanted.join(', ')})` };
      }
    }
    const table = readTable(file, 'data.path', data.format, delimiterOf(data), n);
    return { rows: table.rows.map((cells) => toRow(table.header, cells)), source: `from the first rows of ${path.basename(file)}` };
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { rows: [], source: '', note: `index.html has no example rows: the run's data cannot be read (${e.message})` };
  }
}
