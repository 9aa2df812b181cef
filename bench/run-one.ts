/**
 * One benchmark measurement in its own process (each engine replaces tfjs's global
 * backend): trains a reference network for a fixed time and prints one JSON line.
 *
 *   node dist/bench/run-one.js --backend wasm --model cnn --seconds 20 --threads 2
 *   node dist/bench/run-one.js --backend wasm --model resnet50 --seconds 20 --inference
 *   node dist/bench/run-one.js --backend wasm --model resnet50 --seconds 20 --kernel-threads 2
 *
 * --kernel-threads N runs one model on the threaded wasm build, its convolutions split
 * over N threads (parallelism: kernels), instead of --threads replicas;
 * --inference times the eval path instead of training (batches of 256, one per thread,
 * scored by --threads threads together as mtl eval/predict do);
 * --warmup N untimed steps first (default 3 for training, 2 for inference).
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '../src/backends';
import { benchInference, benchStep, type BenchModel } from './networks';

export interface Measurement {
  engine: string;
  backend: BackendName;
  model: BenchModel;
  mode: 'train' | 'inference';
  threads: number;
  kernel_threads: number;
  samples_per_s: number;
  steps: number;
  seconds: number;
  peak_rss_mb: number;
  tensors_after_warmup: number;
  tensors_at_end: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const backend = arg('backend', 'wasm') as BackendName;
  const model = arg('model', 'cnn') as BenchModel;
  const seconds = Number(arg('seconds', '10'));
  const threads = Number(arg('threads', '1'));
  const kernelThreads = Number(arg('kernel-threads', '1'));
  const info = await initBackend({ device: backend === 'tensorflow-gpu' ? 'gpu' : 'cpu', backend, kernelThreads });
  const inference = process.argv.includes('--inference');
  const bench = inference ? await benchInference(model, threads) : await benchStep(model, threads);
  const warmup = Number(arg('warmup', inference ? '2' : '3'));
  for (let i = 0; i < warmup; i++) bench.step();
  const tensorsAfterWarmup = tf.memory().numTensors;
  let steps = 0;
  const start = performance.now();
  // At least two steps, so the slowest engines still give a figure.
  while (performance.now() - start < seconds * 1000 || steps < 2) {
    bench.step();
    steps++;
  }
  const elapsed = (performance.now() - start) / 1000;
  const measurement: Measurement = {
    engine: `mtl-${backend}${threads > 1 ? `-${threads}threads` : ''}${kernelThreads > 1 ? `-${kernelThreads}kernel-threads` : ''}`,
    backend,
    model,
    mode: inference ? 'inference' : 'train',
    threads,
    kernel_threads: kernelThreads,
    samples_per_s: (steps * bench.batch) / elapsed,
    steps,
    seconds: elapsed,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    tensors_after_warmup: tensorsAfterWarmup,
    tensors_at_end: tf.memory().numTensors,
  };
  await bench.close();
  process.stdout.write(`${JSON.stringify({ ...measurement, package: info.package, version: info.version })}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
