/**
 * The data-loading benchmark (issue 18): a seeded synthetic table of 1,000,000 rows
 * (six numbers, one category, a class target and a value target, ~56 MB of CSV) is
 * trained on by `mtl train` until its first step, in a child process of its own, and
 * the same file is read by numpy.loadtxt (bench/peer_load.py, /usr/bin/python3). Then a
 * streamed run: the same table with `data.memory_budget` far below its encoded size,
 * one epoch, its time and peak RSS; and the same streamed epoch on the table written as
 * Parquet (hyparquet-writer, row groups of 131,072 rows, snappy).
 *
 *   node dist/bench/load.js [--rows 1000000] [--json] [--root DIR] [--no-stream] [--no-peer]
 *
 * `--root` points the child at another checkout's build (its dist/), which is how the
 * figures before the columnar loader were taken (a copy of the previous commit).
 * `npm run bench -- --models load` runs it from bench.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Rng } from '../src/data/rng';

const root = path.resolve(__dirname, '..', '..');
const python = '/usr/bin/python3';

export interface LoadFigures {
  rows: number;
  file_mb: number;
  /** Seconds from the start of `mtl train` (before the config is read) to its first training step. */
  first_step_s?: number;
  /** Of those, reading, splitting and encoding the data (loadData). */
  load_s?: number;
  rss_before_load_mb?: number;
  /** RSS when loadData returns, and the process's peak RSS by then (loading's peak). */
  rss_at_load_end_mb?: number;
  peak_rss_loading_mb?: number;
  /** RSS once V8 has collected and freed loading's garbage (what loading keeps). */
  rss_after_load_mb?: number;
  peak_rss_mb?: number;
  /** float32 size of every encoded input and target (all splits). */
  encoded_mb?: number;
  numpy?: { seconds: number; rss_delta_mb: number; peak_rss_mb: number };
  stream?: StreamFigures;
  /** The same streamed epoch on the table as Parquet. */
  stream_parquet?: StreamFigures & { file_mb: number };
  error?: string;
}

interface StreamFigures {
  budget_mb: number;
  epoch_s: number;
  rss_before_load_mb: number;
  rss_after_load_mb: number;
  peak_rss_mb: number;
  samples_per_s: number;
  rows: number;
}

/** The bench table as Parquet beside it (written once, in a child: hyparquet-writer is an ES module). */
export function benchParquet(csv: string): string {
  const file = csv.replace(/\.csv$/, '.parquet');
  if (existsSync(file)) return file;
  const result = spawnSync(process.execPath, [__filename, '--write-parquet', csv, file], { encoding: 'utf8', timeout: 10 * 60 * 1000 });
  if (result.status !== 0) throw new Error(`writing ${file} failed: ${(result.stderr || result.stdout).slice(-2000)}`);
  return file;
}

async function writeParquet(csv: string, file: string): Promise<void> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const [header, ...lines] = readFileSync(csv, 'utf8').trimEnd().split('\n');
  const names = header.split(',');
  const cells = names.map(() => [] as string[]);
  for (const line of lines) line.split(',').forEach((cell, c) => cells[c].push(cell));
  const columnData = names.map((name, c) =>
    name === 'group' || name === 'label' ? { name, data: cells[c], type: 'STRING' as const } : { name, data: Float64Array.from(cells[c], Number), type: 'DOUBLE' as const },
  );
  writeFileSync(`${file}.part`, Buffer.from(parquetWriteBuffer({ columnData, rowGroupSize: 131072 })));
  renameSync(`${file}.part`, file);
}

/** The table, written once per row count into the temp folder (seeded: always the same bytes). */
export function benchTable(rows: number): string {
  const dir = path.join(tmpdir(), 'mtl-bench-load');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `table-${rows}.csv`);
  if (existsSync(file)) return file;
  const rng = new Rng(18);
  const fd = openSync(`${file}.part`, 'w');
  const categories = ['alpha', 'beta', 'gamma', 'delta', 'eps'];
  const classes = ['low', 'mid', 'high'];
  let out = 'x1,x2,x3,x4,x5,x6,group,label,value\n';
  for (let i = 0; i < rows; i++) {
    const x = Array.from({ length: 6 }, () => rng.normal());
    const c = rng.int(categories.length);
    const score = x[0] - 0.5 * x[1] + 0.3 * x[2] * x[3] + (c - 2) * 0.4 + 0.3 * rng.normal();
    const label = classes[score < -0.5 ? 0 : score < 0.5 ? 1 : 2];
    const value = 10 + 3 * x[4] - 2 * x[5] + x[0] * x[1] + c + 0.5 * rng.normal();
    out += `${x.map((v) => v.toFixed(3)).join(',')},${categories[c]},${label},${value.toFixed(2)}\n`;
    if (out.length > 1 << 20) {
      writeSync(fd, out);
      out = '';
    }
  }
  writeSync(fd, out);
  closeSync(fd);
  renameSync(`${file}.part`, file);
  return file;
}

const configYaml = (file: string, extra = '', format = 'csv') => `name: bench-load
data:
  format: ${format}
  path: ${file}
${extra}
model: {backbone: {type: mlp, units: [64, 64]}}
tasks:
  label: {type: classification, target: label}
  value: {type: regression, target: value}
training: {epochs: 1, batch_size: 512, diagnostics: {enabled: false}}
`;

/** In the child: train until the first step (or one whole epoch with `epoch`), print the figures as JSON. */
async function child(buildRoot: string, configFile: string, outDir: string, epoch: boolean): Promise<void> {
  const started = performance.now();
  // The build under test (this checkout's or another's dist/).
  const req = require as (id: string) => any;
  // src/api/train since the library API; src/cli/train before it (the figures before this work).
  const apiTrain = path.join(buildRoot, 'dist', 'src', 'api', 'train.js');
  const { trainCommand } = req(existsSync(apiTrain) ? apiTrain : path.join(buildRoot, 'dist', 'src', 'cli', 'train'));
  const dataLoad = req(path.join(buildRoot, 'dist', 'src', 'data', 'load'));
  const figures: Record<string, number> = {};
  const original = dataLoad.loadData;
  let loadStarted = 0;
  // Wrap loadData to time it and to read the RSS around it (the CLI calls it through the module's export).
  dataLoad.loadData = async (config: unknown) => {
    figures.rss_before_load_mb = process.memoryUsage().rss / 2 ** 20;
    loadStarted = performance.now();
    const data = await original(config);
    figures.load_s = (performance.now() - loadStarted) / 1000;
    figures.rss_at_load_end_mb = process.memoryUsage().rss / 2 ** 20;
    figures.peak_rss_loading_mb = (process.resourceUsage().maxRSS * 1024) / 2 ** 20;
    // What loading keeps: V8 frees array buffers after a collection, on a background task.
    for (let i = 0; i < 2; i++) {
      globalThis.gc?.();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    figures.rss_after_load_mb = process.memoryUsage().rss / 2 ** 20;
    let bytes = 0;
    for (const split of [data.train, data.val, data.test]) {
      if (!split?.inputs) continue;
      for (const input of split.inputs) bytes += input.values?.byteLength ?? 0;
      for (const t of Object.values(split.targets ?? {}) as ArrayBufferView[]) bytes += t.byteLength;
    }
    figures.encoded_mb = bytes / 2 ** 20;
    return data;
  };
  const stop = { requested: false };
  let epochStart = 0;
  const progress = {
    startEpoch: () => (epochStart = performance.now()),
    step: () => {
      if (figures.first_step_s === undefined) figures.first_step_s = (performance.now() - started) / 1000;
      if (!epoch) stop.requested = true;
    },
    endEpoch: () => (figures.epoch_s = (performance.now() - epochStart) / 1000),
    log: () => undefined,
    stop: () => undefined,
  };
  const quiet = { log: () => undefined, error: () => undefined, warn: () => undefined, write: () => undefined };
  try {
    const summary = await trainCommand({ config: configFile, out: outDir, backend: 'wasm', device: 'cpu' }, quiet, progress, stop);
    figures.samples_per_s = summary.samples_per_s;
  } catch (e) {
    if (!/interrupted/.test((e as Error).message)) throw e;
  }
  figures.peak_rss_mb = (process.resourceUsage().maxRSS * 1024) / 2 ** 20;
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

function runChild(buildRoot: string, configFile: string, outDir: string, epoch: boolean): Record<string, number> {
  const args = ['--expose-gc', __filename, '--child', buildRoot, configFile, outDir, epoch ? 'epoch' : 'first'];
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 30 * 60 * 1000, maxBuffer: 1 << 26, env: { ...process.env, CI: 'true' } });
  if (result.status !== 0) throw new Error(`mtl train failed: ${(result.stderr || result.stdout).slice(-2000)}`);
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

function numpyPeer(file: string): LoadFigures['numpy'] {
  const script = path.join(root, 'bench', 'peer_load.py');
  if (!existsSync(python) || !existsSync(script)) return undefined;
  const out = execFileSync(python, [script, file], { encoding: 'utf8', timeout: 600000 }).trim().split('\n');
  return JSON.parse(out[out.length - 1]);
}

const mb = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(0));

export function loadBench(options: { rows?: number; buildRoot?: string; stream?: boolean; peer?: boolean; say?: (line: string) => void } = {}): LoadFigures {
  const rows = options.rows ?? 1_000_000;
  const say = options.say ?? ((line: string) => process.stdout.write(`${line}\n`));
  say(`load: generating ${rows} rows (seeded) ...`);
  const file = benchTable(rows);
  const figures: LoadFigures = { rows, file_mb: statSync(file).size / 2 ** 20 };
  const dir = path.dirname(file);
  const work = path.join(dir, `runs-${process.pid}`);
  try {
    const config = path.join(dir, `bench-${process.pid}.yaml`);
    writeFileSync(config, configYaml(file));
    say(`load: mtl train to its first step on ${figures.file_mb.toFixed(1)} MB ...`);
    Object.assign(figures, runChild(options.buildRoot ?? root, config, path.join(work, 'first'), false));
    if (options.peer !== false) {
      say('load: numpy.loadtxt on the same file ...');
      figures.numpy = numpyPeer(file);
    }
    if (options.stream !== false) {
      const budget = 16;
      const streamed = path.join(dir, `bench-stream-${process.pid}.yaml`);
      writeFileSync(streamed, configYaml(file, `  streaming: true\n  memory_budget: ${budget}MB\n  shuffle_buffer: 65536`));
      say(`load: one streamed epoch with memory_budget ${budget} MB ...`);
      const s = runChild(options.buildRoot ?? root, streamed, path.join(work, 'stream'), true);
      const streamFigures = (s: Record<string, number>, budgetMb = budget): StreamFigures => ({ budget_mb: budgetMb, epoch_s: s.epoch_s, rss_before_load_mb: s.rss_before_load_mb, rss_after_load_mb: s.rss_after_load_mb, peak_rss_mb: s.peak_rss_mb, samples_per_s: s.samples_per_s, rows });
      figures.stream = streamFigures(s);
      const parquet = benchParquet(file);
      // Snappy makes the Parquet file about a quarter of the CSV: a budget below its size.
      const parquetBudget = 8;
      const parquetConfig = path.join(dir, `bench-stream-parquet-${process.pid}.yaml`);
      writeFileSync(parquetConfig, configYaml(parquet, `  streaming: true\n  memory_budget: ${parquetBudget}MB\n  shuffle_buffer: 65536`, 'parquet'));
      say(`load: one streamed epoch of the table as Parquet (${(statSync(parquet).size / 2 ** 20).toFixed(1)} MB) with memory_budget ${parquetBudget} MB ...`);
      figures.stream_parquet = { ...streamFigures(runChild(options.buildRoot ?? root, parquetConfig, path.join(work, 'stream-parquet'), true), parquetBudget), file_mb: statSync(parquet).size / 2 ** 20 };
    }
  } catch (e) {
    figures.error = (e as Error).message;
  } finally {
    spawnSync('rm', ['-rf', work]);
  }
  const n = figures.numpy;
  say(
    `load: first step after ${figures.first_step_s?.toFixed(2)} s (loadData ${figures.load_s?.toFixed(2)} s), RSS ${mb(figures.rss_before_load_mb)} MB before loading, ${mb(figures.rss_at_load_end_mb)} MB when it returns (peak ${mb(figures.peak_rss_loading_mb)} MB), ` +
      `${mb(figures.rss_after_load_mb)} MB once collected (encoded ${mb(figures.encoded_mb)} MB), peak ${mb(figures.peak_rss_mb)} MB by the first step` +
      (n ? `; numpy.loadtxt ${n.seconds.toFixed(2)} s, +${mb(n.rss_delta_mb)} MB (peak ${mb(n.peak_rss_mb)} MB)` : ''),
  );
  if (figures.stream) {
    const st = figures.stream;
    say(`load: streamed epoch ${st.epoch_s?.toFixed(1)} s (${mb(st.samples_per_s)} samples/s), RSS ${mb(st.rss_before_load_mb)} -> ${mb(st.rss_after_load_mb)} MB after the two passes, peak ${mb(st.peak_rss_mb)} MB, budget ${st.budget_mb} MB`);
  }
  if (figures.stream_parquet) {
    const st = figures.stream_parquet;
    say(`load: streamed Parquet epoch ${st.epoch_s?.toFixed(1)} s (${mb(st.samples_per_s)} samples/s), RSS ${mb(st.rss_before_load_mb)} -> ${mb(st.rss_after_load_mb)} MB after the two passes, peak ${mb(st.peak_rss_mb)} MB, budget ${st.budget_mb} MB, file ${st.file_mb.toFixed(1)} MB`);
  }
  if (figures.error) say(`load: ${figures.error}`);
  return figures;
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (require.main === module) {
  if (process.argv[2] === '--write-parquet') {
    writeParquet(process.argv[3], process.argv[4]).catch((e) => {
      process.stderr.write(`${(e as Error).stack}\n`);
      process.exit(1);
    });
  } else if (process.argv[2] === '--child') {
    const [buildRoot, configFile, outDir, mode] = process.argv.slice(3);
    child(buildRoot, configFile, outDir, mode === 'epoch').catch((e) => {
      process.stderr.write(`${(e as Error).stack}\n`);
      process.exit(1);
    });
  } else {
    const json = process.argv.includes('--json');
    const figures = loadBench({
      rows: Number(option('rows') ?? 1_000_000),
      buildRoot: option('root'),
      stream: !process.argv.includes('--no-stream'),
      peer: !process.argv.includes('--no-peer'),
      say: (line) => (json ? process.stderr : process.stdout).write(`${line}\n`),
    });
    if (json) process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  }
}
