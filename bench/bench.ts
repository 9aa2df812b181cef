/**
 * npm run bench [-- --json] [--serve] [--load] [--seconds-cnn 20] [--seconds-mlp 10] [--seconds-resnet50 30] [--seconds-text 10]
 *   [--seconds-inference 10] [--models cnn,mlp,resnet50,text-bag,text-cnn,text-transformer] [--no-inference]
 *
 * Trains the three reference networks of ../shared/bench/README.md, and the three text
 * encoders against the project's own peer (bench/peer_text.py), with mtl's own
 * training loop on every engine that loads here (each in its own process), and the
 * PyTorch peer (../shared/bench/peer_torch.py, when /usr/bin/python3 has torch) in
 * the same run, right before and right after mtl's measurements of the same model:
 * ratios are taken against the mean of the two, since shared machines drift. The
 * reference networks (and the text encoders, on wasm) train on 1 thread and on one per
 * core (the 1 -> N speedup is reported), and their inference (the eval path, batches of 256, also on 1 thread and on
 * one per core as mtl eval/predict thread it) is timed beside bench/peer_infer.py's
 * (PyTorch eval mode, no_grad, same threads as its training).
 * Fails when the tensor count grows.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import Table from 'cli-table3';
import { backendNames, type BackendName } from '../src/backends';
import { textBenchModels, type BenchModel, type TextBenchModel } from './networks';
import type { Measurement } from './run-one';
import { loadBench } from './load';

type Mode = 'train' | 'inference';

interface Row {
  engine: string;
  model: BenchModel;
  mode: Mode;
  samples_per_s: number;
  ratio_to_pytorch: number | null;
  peak_rss_mb: number;
  threads?: number;
  tensors_grew?: boolean;
  /** samples/s over the same engine's 1-thread figure (rows with more threads). */
  speedup_vs_1_thread?: number;
  error?: string;
}

const referenceModels: BenchModel[] = ['cnn', 'mlp', 'resnet50'];
const inferencePeer = path.join(__dirname, '..', '..', 'bench', 'peer_infer.py');

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
function peer(model: BenchModel, seconds: number, threads: number, mode: Mode = 'train'): Row | undefined {
  const peerScript = mode === 'inference' ? inferencePeer : peerScriptFor(model);
  if (!existsSync(peerScript)) return undefined;
  const extra = mode === 'inference' ? `, '--peer', ${JSON.stringify(sharedPeer)}` : '';
  const wrapper = [
    'import resource, runpy, sys',
    `sys.argv = [${JSON.stringify(peerScript)}, '--model', '${model}', '--threads', '${threads}', '--seconds', '${seconds}'${extra}]`,
    `runpy.run_path(${JSON.stringify(peerScript)}, run_name='__main__')`,
    'print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)',
  ].join('\n');
  const lines = execFileSync(python, ['-c', wrapper], { encoding: 'utf8', timeout: (seconds + 180) * 1000 }).trim().split('\n');
  const result = JSON.parse(lines[lines.length - 2]) as { engine: string; samples_per_s: number };
  return { engine: `${result.engine} (${threads} threads)`, model, mode, samples_per_s: result.samples_per_s, ratio_to_pytorch: 1, peak_rss_mb: Number(lines[lines.length - 1]) / 1024, threads };
}

function mtl(backend: BackendName, model: BenchModel, seconds: number, threads: number, mode: Mode = 'train', kernelThreads = 1): Row {
  // The plain-JS engine takes many seconds per ResNet-50 step: one warm-up step there.
  const warmup = backend === 'cpu' && model === 'resnet50' ? ['--warmup', '1'] : [];
  const args = [path.join(__dirname, 'run-one.js'), '--backend', backend, '--model', model, '--seconds', String(seconds), '--threads', String(threads), '--kernel-threads', String(kernelThreads), ...warmup];
  const r = spawnSync(process.execPath, mode === 'inference' ? [...args, '--inference'] : args, {
    encoding: 'utf8',
    timeout: (seconds * 4 + 600) * 1000,
  });
  if (r.status !== 0) {
    const error = (r.stderr || r.error?.message || 'failed').trim().split('\n').filter((l) => /error/i.test(l))[0] ?? (r.stderr || 'failed').split('\n')[0];
    return { engine: `mtl-${backend}${kernelThreads > 1 ? `-${kernelThreads}kernel-threads` : ''}`, model, mode, samples_per_s: NaN, ratio_to_pytorch: null, peak_rss_mb: NaN, threads: Math.max(threads, kernelThreads), error };
  }
  const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as Measurement;
  return {
    engine: m.engine,
    model,
    mode,
    samples_per_s: m.samples_per_s,
    ratio_to_pytorch: null,
    peak_rss_mb: m.peak_rss_mb,
    threads: Math.max(threads, kernelThreads),
    tensors_grew: m.tensors_at_end > m.tensors_after_warmup,
  };
}

function main(): void {
  const models = option('models', [...referenceModels, ...textBenchModels].join(',')).split(',').filter((m) => m !== 'load' && m !== 'serve') as BenchModel[];
  const textSeconds = Number(option('seconds-text', '10'));
  const inferenceSeconds = Number(option('seconds-inference', '10'));
  const inference = !process.argv.includes('--no-inference');
  const seconds: Record<BenchModel, number> = {
    cnn: Number(option('seconds-cnn', '20')),
    mlp: Number(option('seconds-mlp', '10')),
    resnet50: Number(option('seconds-resnet50', '30')),
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
  /** Runs the peer, then `measure`, then the peer again; ratios against the peers' mean. */
  const paired = (model: BenchModel, mode: Mode, peerSeconds: number, measure: () => Row[]) => {
    const label = mode === 'inference' ? `${model} inference` : model;
    const before = torch ? (say(`pytorch ${label} (${cores} threads, ${peerSeconds} s) ...`), peer(model, peerSeconds, cores, mode)) : undefined;
    const measured = measure();
    const after = before && (say(`pytorch ${label} again ...`), peer(model, peerSeconds, cores, mode));
    if (before && after) {
      const reference = { ...before, samples_per_s: (before.samples_per_s + after.samples_per_s) / 2, peak_rss_mb: Math.max(before.peak_rss_mb, after.peak_rss_mb) };
      say(`pytorch ${label}: ${round(before.samples_per_s)} before, ${round(after.samples_per_s)} after mtl's runs`);
      for (const row of measured) if (Number.isFinite(row.samples_per_s)) row.ratio_to_pytorch = row.samples_per_s / reference.samples_per_s;
      rows.push(reference);
    }
    rows.push(...measured);
  };
  for (const model of models) {
    const isReference = referenceModels.includes(model);
    paired(model, 'train', seconds[model], () => {
      const measured: Row[] = [];
      for (const backend of engines) {
        // The plain-JS engine is two orders of magnitude slower on the ResNets: a few steps suffice.
        const slow = backend === 'cpu' && (model === 'cnn' || model === 'resnet50');
        const time = slow ? Math.min(seconds[model], model === 'resnet50' ? 10 : 5) : seconds[model];
        // Text on the wasm engine too: --threads auto threads its cnn and transformer encoders.
        const threadCounts = (backend === 'wasm' || backend === 'cpu') && cores > 1 && (isReference || backend === 'wasm') ? [1, cores] : [1];
        for (const threads of threadCounts) {
          say(`mtl ${backend} ${model} (${threads} thread${threads > 1 ? 's' : ''}, ${time} s) ...`);
          const row = mtl(backend, model, time, threads);
          const single = measured.find((r) => r.engine.startsWith(`mtl-${backend}`) && r.threads === 1);
          if (threads > 1 && single && Number.isFinite(row.samples_per_s)) row.speedup_vs_1_thread = row.samples_per_s / single.samples_per_s;
          measured.push(row);
        }
        // The conv nets on wasm also as kernel threads (parallelism: kernels): one model, each convolution split.
        // (auto picks them for resnet50 and text-cnn)
        if (backend === 'wasm' && cores > 1 && (model === 'cnn' || model === 'resnet50' || model === 'text-cnn')) {
          say(`mtl ${backend} ${model} (${cores} kernel threads, ${time} s) ...`);
          const row = mtl(backend, model, time, 1, 'train', cores);
          const single = measured.find((r) => r.engine === `mtl-${backend}`);
          if (single && Number.isFinite(row.samples_per_s)) row.speedup_vs_1_thread = row.samples_per_s / single.samples_per_s;
          measured.push(row);
        }
      }
      return measured;
    });
    if (inference && isReference) {
      paired(model, 'inference', inferenceSeconds, () => {
        const measured: Row[] = [];
        for (const backend of engines) {
          const time = backend === 'cpu' && model !== 'mlp' ? Math.min(inferenceSeconds, 5) : inferenceSeconds;
          const threadCounts = (backend === 'wasm' || backend === 'cpu') && cores > 1 ? [1, cores] : [1];
          for (const threads of threadCounts) {
            say(`mtl ${backend} ${model} inference (batch 256, ${threads} thread${threads > 1 ? 's' : ''}, ${time} s) ...`);
            const row = mtl(backend, model, time, threads, 'inference');
            const single = measured.find((r) => r.engine === `mtl-${backend}`);
            if (threads > 1 && single && Number.isFinite(row.samples_per_s)) row.speedup_vs_1_thread = row.samples_per_s / single.samples_per_s;
            measured.push(row);
          }
          if (backend === 'wasm' && cores > 1 && model === 'resnet50') {
            say(`mtl ${backend} ${model} inference (batch 256, ${cores} kernel threads, ${time} s) ...`);
            const row = mtl(backend, model, time, 1, 'inference', cores);
            const single = measured.find((r) => r.engine === `mtl-${backend}`);
            if (single && Number.isFinite(row.samples_per_s)) row.speedup_vs_1_thread = row.samples_per_s / single.samples_per_s;
            measured.push(row);
          }
        }
        return measured;
      });
    }
  }
  if (json) {
    for (const r of rows) {
      process.stdout.write(`${JSON.stringify({ engine: r.engine, model: r.model, mode: r.mode, threads: r.threads, samples_per_s: round(r.samples_per_s), ratio_to_pytorch: r.ratio_to_pytorch === null ? null : round(r.ratio_to_pytorch, 3), peak_rss_mb: Number.isFinite(r.peak_rss_mb) ? round(r.peak_rss_mb) : null, ...(r.speedup_vs_1_thread ? { speedup_vs_1_thread: round(r.speedup_vs_1_thread, 2) } : {}), ...(r.error ? { error: r.error } : {}) })}\n`);
    }
  } else {
    const table = new Table({ head: ['engine', 'model', 'mode', 'samples/s', 'ratio to PyTorch', 'peak RSS MB', '1 -> N threads'], style: { head: [], border: [], compact: true } });
    for (const r of rows) {
      table.push([r.engine, r.model, r.mode, r.error ? `failed: ${r.error}` : round(r.samples_per_s).toLocaleString('en'), r.ratio_to_pytorch === null ? '' : r.ratio_to_pytorch.toFixed(2), Number.isFinite(r.peak_rss_mb) ? round(r.peak_rss_mb) : '', r.speedup_vs_1_thread ? `${r.speedup_vs_1_thread.toFixed(2)}x` : '']);
    }
    say(table.toString());
  }
  const grew = rows.filter((r) => r.tensors_grew);
  if (grew.length) {
    process.stderr.write(`tensor count grew across steps: ${grew.map((r) => `${r.engine}/${r.model}/${r.mode}`).join(', ')}\n`);
    process.exit(1);
  }
  if (rows.some((r) => r.error)) process.exit(1);
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

main();
// The data-loading benchmark (bench/load.ts, issue 18): `--models load` (alone or in the list) or `--load`.
if (option('models', '').split(',').includes('load') || process.argv.includes('--load')) {
  const figures = loadBench({ say });
  if (json) process.stdout.write(`${JSON.stringify({ model: 'load', ...figures })}\n`);
}
// The serving load test (bench/serve-load.ts, issue 15), in a process of its own: `--models serve` or `--serve`.
if (option('models', '').split(',').includes('serve') || process.argv.includes('--serve')) {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'serve-load.js'), ...(json ? ['--json'] : [])], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
}
