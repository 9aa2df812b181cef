/**
 * npm run bench [-- --json] [--seconds-cnn 20] [--seconds-mlp 10] [--seconds-text 10] [--models cnn,mlp,text-bag,text-cnn,text-transformer]
 *
 * Trains the two reference networks of ../shared/bench/README.md, and the three text
 * encoders against the project's own peer (bench/peer_text.py), with mtl's own
 * training loop on every engine that loads here (each in its own process), and the
 * PyTorch peer (../shared/bench/peer_torch.py, when /usr/bin/python3 has torch) in
 * the same run, right before and right after mtl's measurements of the same model:
 * ratios are taken against the mean of the two, since shared machines drift. Fails
 * when the tensor count grows.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import Table from 'cli-table3';
import { backendNames, type BackendName } from '../src/backends';
import { textBenchModels, type BenchModel, type TextBenchModel } from './networks';
import type { Measurement } from './run-one';

interface Row {
  engine: string;
  model: BenchModel;
  samples_per_s: number;
  ratio_to_pytorch: number | null;
  peak_rss_mb: number;
  threads?: number;
  tensors_grew?: boolean;
  error?: string;
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const json = process.argv.includes('--json');
const say = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
const root = path.resolve(__dirname, '..', '..');
const sharedPeer = process.env.MTL_PEER_TORCH ?? path.join(root, '..', 'shared', 'bench', 'peer_torch.py');
/** The reference networks' peer is shared; the text encoders' is the project's own. */
const peerScriptFor = (model: BenchModel) => (model.startsWith('text-') ? path.join(root, 'bench', 'peer_text.py') : sharedPeer);
const python = '/usr/bin/python3';

function loads(backend: BackendName): boolean {
  const device = backend === 'tensorflow-gpu' ? 'gpu' : 'cpu';
  const script = `require(${JSON.stringify(path.join(root, 'dist', 'src', 'backends'))}).initBackend({device:'${device}',backend:'${backend}'}).then(()=>process.exit(0),()=>process.exit(1))`;
  return spawnSync(process.execPath, ['-e', script], { stdio: 'ignore', timeout: 120000 }).status === 0;
}

function hasTorch(): boolean {
  if (!existsSync(python)) return false;
  return spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

/** The peer, run through runpy so its peak RSS can be read after it finishes. */
function peer(model: BenchModel, seconds: number, threads: number): Row | undefined {
  const peerScript = peerScriptFor(model);
  if (!existsSync(peerScript)) return undefined;
  const wrapper = [
    'import resource, runpy, sys',
    `sys.argv = [${JSON.stringify(peerScript)}, '--model', '${model}', '--threads', '${threads}', '--seconds', '${seconds}']`,
    `runpy.run_path(${JSON.stringify(peerScript)}, run_name='__main__')`,
    'print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)',
  ].join('\n');
  const lines = execFileSync(python, ['-c', wrapper], { encoding: 'utf8', timeout: (seconds + 120) * 1000 }).trim().split('\n');
  const result = JSON.parse(lines[lines.length - 2]) as { engine: string; samples_per_s: number };
  return { engine: `${result.engine} (${threads} threads)`, model, samples_per_s: result.samples_per_s, ratio_to_pytorch: 1, peak_rss_mb: Number(lines[lines.length - 1]) / 1024, threads };
}

function mtl(backend: BackendName, model: BenchModel, seconds: number, threads: number): Row {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'run-one.js'), '--backend', backend, '--model', model, '--seconds', String(seconds), '--threads', String(threads)], {
    encoding: 'utf8',
    timeout: (seconds * 4 + 300) * 1000,
  });
  if (r.status !== 0) return { engine: `mtl-${backend}`, model, samples_per_s: NaN, ratio_to_pytorch: null, peak_rss_mb: NaN, threads, error: (r.stderr || 'failed').split('\n')[0] };
  const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as Measurement;
  return {
    engine: m.engine,
    model,
    samples_per_s: m.samples_per_s,
    ratio_to_pytorch: null,
    peak_rss_mb: m.peak_rss_mb,
    threads,
    tensors_grew: m.tensors_at_end > m.tensors_after_warmup,
  };
}

function main(): void {
  const models = option('models', ['cnn', 'mlp', ...textBenchModels].join(',')).split(',') as BenchModel[];
  const textSeconds = Number(option('seconds-text', '10'));
  const seconds: Record<BenchModel, number> = {
    cnn: Number(option('seconds-cnn', '20')),
    mlp: Number(option('seconds-mlp', '10')),
    ...(Object.fromEntries(textBenchModels.map((m) => [m, textSeconds])) as Record<TextBenchModel, number>),
  };
  const cores = availableParallelism();
  const engines = backendNames.filter((b) => {
    const ok = loads(b);
    say(`${b}: ${ok ? 'loads' : 'not available here'}`);
    return ok;
  });
  const torch = hasTorch();
  if (!torch) say(`PyTorch peer: not available (${python} with torch is needed); ratios are left empty`);
  const rows: Row[] = [];
  for (const model of models) {
    const before = torch ? (say(`pytorch ${model} (${cores} threads, ${seconds[model]} s) ...`), peer(model, seconds[model], cores)) : undefined;
    const measured: Row[] = [];
    for (const backend of engines) {
      // The plain-JS engine is two orders of magnitude slower on the CNN: a few steps suffice.
      const time = backend === 'cpu' && model === 'cnn' ? Math.min(seconds[model], 5) : seconds[model];
      const threadCounts = (backend === 'wasm' || backend === 'cpu') && cores > 1 && model === 'cnn' ? [1, cores] : [1];
      for (const threads of threadCounts) {
        say(`mtl ${backend} ${model} (${threads} thread${threads > 1 ? 's' : ''}, ${time} s) ...`);
        measured.push(mtl(backend, model, time, threads));
      }
    }
    const after = before && (say(`pytorch ${model} again ...`), peer(model, seconds[model], cores));
    if (before && after) {
      const reference = { ...before, samples_per_s: (before.samples_per_s + after.samples_per_s) / 2 };
      say(`pytorch ${model}: ${round(before.samples_per_s)} before, ${round(after.samples_per_s)} after mtl's runs`);
      for (const row of measured) if (Number.isFinite(row.samples_per_s)) row.ratio_to_pytorch = row.samples_per_s / reference.samples_per_s;
      rows.push(reference);
    }
    rows.push(...measured);
  }
  if (json) {
    for (const r of rows) {
      process.stdout.write(`${JSON.stringify({ engine: r.engine, model: r.model, samples_per_s: round(r.samples_per_s), ratio_to_pytorch: r.ratio_to_pytorch === null ? null : round(r.ratio_to_pytorch, 3), peak_rss_mb: Number.isFinite(r.peak_rss_mb) ? round(r.peak_rss_mb) : null, ...(r.error ? { error: r.error } : {}) })}\n`);
    }
  } else {
    const table = new Table({ head: ['engine', 'model', 'samples/s', 'ratio to PyTorch', 'peak RSS MB'], style: { head: [], border: [], compact: true } });
    for (const r of rows) {
      table.push([r.engine, r.model, r.error ? `failed: ${r.error}` : round(r.samples_per_s).toLocaleString('en'), r.ratio_to_pytorch === null ? '' : r.ratio_to_pytorch.toFixed(2), Number.isFinite(r.peak_rss_mb) ? round(r.peak_rss_mb) : '']);
    }
    say(table.toString());
  }
  const grew = rows.filter((r) => r.tensors_grew);
  if (grew.length) {
    process.stderr.write(`tensor count grew across steps: ${grew.map((r) => `${r.engine}/${r.model}`).join(', ')}\n`);
    process.exit(1);
  }
  if (rows.some((r) => r.error)) process.exit(1);
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

main();
