/**
 * Per-kernel profile of one of the bench's reference networks (bench/networks.ts),
 * trained with mtl's own step on one thread, or its inference (the eval path):
 *
 *   node dist/bench/kernels/profile-net.js [--model resnet50] [--backend wasm|cpu] [--steps 3]
 *     [--inference] [--shapes] [--clock wall|cpu] [--top 30] [--threads 1] [--kernel-threads 1]
 *
 * --shapes splits the convolution kernels by layer shape; --clock cpu charges each
 * kernel the process's CPU time instead of wall time (steadier on a loaded machine).
 * With --threads N the profile is rank 0's (the all-reduce counts as outside kernels);
 * --kernel-threads N profiles one model whose kernels split over N threads.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '../../src/backends';
import { benchInference, benchStep, type BenchModel } from '../networks';
import { KernelProfiler } from './profiler';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const model = arg('model', 'resnet50') as BenchModel;
  const backend = arg('backend', 'wasm') as BackendName;
  const steps = Number(arg('steps', '3'));
  const top = Number(arg('top', '30'));
  const clock = arg('clock', 'wall') as 'wall' | 'cpu';
  const inference = process.argv.includes('--inference');
  const threads = Number(arg('threads', '1'));
  await initBackend({ device: 'cpu', backend, kernelThreads: Number(arg('kernel-threads', '1')) });
  const bench = inference ? await benchInference(model) : await benchStep(model, threads);
  for (let i = 0; i < 2; i++) bench.step();
  const profiler = new KernelProfiler(backend, { shapes: process.argv.includes('--shapes'), clock });
  const now = clock === 'cpu' ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; } : () => performance.now();
  const t0 = now();
  for (let i = 0; i < steps; i++) bench.step();
  const stepMs = (now() - t0) / steps;
  const stats = profiler.top();
  profiler.restore();
  const kernelMs = stats.reduce((s, p) => s + p.ms, 0) / steps;
  console.log(`${model} ${inference ? 'inference (batch 256)' : `training (batch ${bench.batch})`} on ${backend}, ${threads} thread${threads > 1 ? 's (rank 0)' : ''}, ${clock} clock: ` +
    `${stepMs.toFixed(1)} ms per step (${((1000 * bench.batch) / stepMs).toFixed(2)} samples/s), kernels ${kernelMs.toFixed(1)} ms, outside kernels ${(stepMs - kernelMs).toFixed(1)} ms`);
  for (const s of stats.slice(0, top)) {
    const ms = s.ms / steps;
    console.log(`  ${s.name.padEnd(48)} ${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / stepMs).toFixed(1).padStart(5)}%  ${s.calls / steps} calls`);
  }
  await bench.close();
  void tf;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
