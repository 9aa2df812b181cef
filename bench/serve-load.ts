/**
 * The serving load test: `mtl serve` in a process of its own on 127.0.0.1, 16 concurrent
 * clients for 10 s each against a penguins model (table rows) and a Fashion-MNIST model
 * (PNG files by path), and reports requests/s, rows/s, p50 and p99 latency, errors
 * (must be 0), the server's RSS before and after, and its tensor count (must not grow).
 *
 *   node dist/bench/serve-load.js [--seconds 10] [--clients 16] [--rows 4] [--json] [--models penguins,fashion]
 *
 * Traffic goes to the loopback address only; every client loop stops at the deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Table from 'cli-table3';
import { parse as parseCsv } from 'csv-parse/sync';
import { initBackend } from '../src/backends';
import { trainCommand } from '../src/api/train';
import { silentProgress } from '../src/training/progress';
import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';

const root = path.resolve(__dirname, '..', '..');
const bin = path.join(root, 'bin', 'mtl.js');

interface Figures {
  model: string;
  clients: number;
  rows_per_request: number;
  seconds: number;
  requests: number;
  requests_per_s: number;
  rows_per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  rss_before_mb: number;
  rss_after_mb: number;
  batches?: number;
  tensors_before: number;
  tensors_after: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function startServer(run: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [bin, 'serve', run, '--port', '0', '--backend', 'wasm'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CI: 'true' } });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const until = Date.now() + 60000;
  while (!/ at (http:\/\/[^\s:]+:\d+):/.test(out)) {
    if (child.exitCode !== null || Date.now() > until) throw new Error(`mtl serve did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, url: /at (http:\/\/[^\s:]+:\d+)/.exec(out)![1] };
}

async function load(model: string, run: string, instances: Record<string, unknown>[], clients: number, rowsPerRequest: number, seconds: number): Promise<Figures> {
  const { child, url } = await startServer(run);
  const endpoint = `${url}/v1/models/${model}:predict`;
  const body = (k: number) => JSON.stringify({ instances: Array.from({ length: rowsPerRequest }, (_, j) => instances[(k * rowsPerRequest + j) % instances.length]) });
  const phase = async (ms: number) => {
    const latencies: number[] = [];
    let errors = 0;
    const deadline = Date.now() + ms;
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        for (let k = c; Date.now() < deadline; k += clients) {
          const t = performance.now();
          try {
            const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(k) });
            const json = (await res.json()) as { predictions?: unknown[] };
            if (res.status !== 200 || json.predictions?.length !== rowsPerRequest) errors++;
          } catch {
            errors++;
          }
          latencies.push(performance.now() - t);
        }
      }),
    );
    return { latencies, errors };
  };
  const memory = async () => ((await (await fetch(`${url}/v1/models/${model}`)).json()) as { memory: { tensors: number } }).memory.tensors;
  // Under load for 2 s first (kernels compiled, heaps grown), then the measured run.
  await phase(2000);
  const rssBefore = rssMb(child.pid!);
  const tensorsBefore = await memory();
  const started = Date.now();
  const { latencies, errors } = await phase(seconds * 1000);
  const elapsed = (Date.now() - started) / 1000;
  const rssAfter = rssMb(child.pid!);
  const tensorsAfter = await memory();
  const info = (await (await fetch(`${url}/v1/models/${model}`)).json()) as { batching?: { batches: number } };
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return {
    model,
    clients,
    rows_per_request: rowsPerRequest,
    seconds: elapsed,
    requests: latencies.length,
    requests_per_s: latencies.length / elapsed,
    rows_per_s: (latencies.length * rowsPerRequest) / elapsed,
    p50_ms: q(0.5),
    p99_ms: q(0.99),
    errors,
    rss_before_mb: rssBefore,
    rss_after_mb: rssAfter,
    batches: info.batching?.batches,
    tensors_before: tensorsBefore,
    tensors_after: tensorsAfter,
  };
}

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '10'));
  const clients = Number(arg('clients', '16'));
  const rows = Number(arg('rows', '4'));
  const models = arg('models', 'penguins,fashion').split(',');
  const json = process.argv.includes('--json');
  await initBackend({ device: 'cpu', backend: 'wasm' });
  const work = mkdtempSync(path.join(tmpdir(), 'mtl-serve-bench-'));
  const results: Figures[] = [];
  try {
    if (models.includes('penguins')) {
      const run = path.join(work, 'penguins');
      await trainCommand({ config: path.join(root, 'configs', 'penguins.yaml'), out: run }, { log: () => undefined }, silentProgress);
      const table = parseCsv(readFileSync(path.join(root, 'datasets', 'penguins', 'penguins.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
      const features = ['island', 'bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'sex'];
      const instances = table.map((r) => Object.fromEntries(features.map((f) => [f, r[f] === 'NA' ? null : /^-?[\d.]+$/.test(r[f]) ? Number(r[f]) : r[f]])));
      results.push(await load('penguins', run, instances, clients, rows, seconds));
    }
    if (models.includes('fashion')) {
      // The PNG demo's model, trained briefly (the load test measures serving, not accuracy).
      const run = path.join(work, 'fashion');
      await trainCommand({ config: path.join(root, 'configs', 'fashion-mnist-png.yaml'), out: run, epochs: 1, set: ['data.limit=1000'] }, { log: () => undefined }, silentProgress);
      const folder = path.join(root, 'datasets', 'fashion-mnist-png');
      const table = parseCsv(readFileSync(path.join(folder, 'images.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
      const instances = table.slice(0, 500).map((r) => ({ image: path.join(folder, r.image) }));
      results.push(await load('fashion-mnist-png', run, instances, clients, rows, seconds));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (json) {
    for (const r of results) process.stdout.write(`${JSON.stringify({ bench: 'serve', ...r })}\n`);
  } else {
    const t = new Table({ head: ['model', 'clients', 'rows/request', 'requests/s', 'rows/s', 'p50 ms', 'p99 ms', 'errors', 'batches', 'RSS before → after MB', 'tensors'], style: { head: [], border: [], compact: true } });
    for (const r of results) t.push([r.model, r.clients, r.rows_per_request, r.requests_per_s.toFixed(0), r.rows_per_s.toFixed(0), r.p50_ms.toFixed(1), r.p99_ms.toFixed(1), r.errors, r.batches ?? '', `${r.rss_before_mb.toFixed(0)} → ${r.rss_after_mb.toFixed(0)}`, `${r.tensors_before} → ${r.tensors_after}`]);
    process.stdout.write(`mtl serve, ${seconds} s per model, on 127.0.0.1\n${t.toString()}\n`);
  }
  if (results.some((r) => r.errors > 0 || r.tensors_after > r.tensors_before)) process.exitCode = 1;
}

void main().then(() => process.exit(process.exitCode ?? 0));
