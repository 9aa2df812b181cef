/**
 * Trains the reference ResNet-14 "cnn" (batch 64, Adam 1e-3, random data) for a
 * fixed time and prints samples/s and the per-kernel time profile.
 *
 *   node dist/bench/kernels/resnet-step.js [--backend wasm|cpu] [--seconds 20] [--batch 64]
 *     [--stock] [--no-profile] [--peer [--peer-script PATH] [--peer-threads 1]]
 *
 * --stock skips registering the mtl kernels (stock wasm cannot train a conv net).
 * --peer runs the PyTorch peer (../../shared/bench/peer_torch.py by default)
 * right before and after, and prints our samples/s as a ratio to its mean.
 */
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerCpuTrainingKernels } from '../../src/backends/kernels/cpu';
import { registerWasmTrainingKernels } from '../../src/backends/kernels/wasm';
import { KernelProfiler } from './profiler';
import { buildResnet14, trainStep } from './resnet14';

interface Options {
  backend: string;
  seconds: number;
  stock: boolean;
  profile: boolean;
  batch: number;
  peer: boolean;
  peerScript: string;
  peerThreads: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    backend: 'wasm', seconds: 20, stock: false, profile: true, batch: 64,
    peer: false, peerScript: '/work/shared/bench/peer_torch.py', peerThreads: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--backend') o.backend = argv[++i];
    else if (a === '--seconds') o.seconds = Number(argv[++i]);
    else if (a === '--batch') o.batch = Number(argv[++i]);
    else if (a === '--stock') o.stock = true;
    else if (a === '--no-profile') o.profile = false;
    else if (a === '--peer') o.peer = true;
    else if (a === '--peer-script') o.peerScript = argv[++i];
    else if (a === '--peer-threads') o.peerThreads = Number(argv[++i]);
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

/** samples/s of the PyTorch peer on the same network, or null (with the reason printed) when it cannot run. */
function runPeer(o: Options): number | null {
  const r = spawnSync('/usr/bin/python3', [o.peerScript, '--model', 'cnn', '--threads', String(o.peerThreads),
    '--seconds', String(Math.min(10, o.seconds)), '--batch', String(o.batch)], { encoding: 'utf8' });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const result = JSON.parse(line) as { samples_per_s: number };
    console.log(`peer: ${line}`);
    return result.samples_per_s;
  } catch {
    console.log(`peer: not available (${(r.error?.message ?? r.stderr ?? '').trim().split('\n').pop()})`);
    return null;
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const peerBefore = o.peer ? runPeer(o) : null;
  if (!o.stock) {
    registerWasmTrainingKernels();
    registerCpuTrainingKernels();
  }
  await tf.setBackend(o.backend);
  const model = buildResnet14();
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomNormal([o.batch, 32, 32, 3], 0, 1, 'float32', 1);
  const labels = tf.oneHot(tf.randomUniform([o.batch], 0, 10, 'int32', 2), 10);
  const targets = tf.randomNormal([o.batch, 1], 0, 1, 'float32', 3);

  for (let i = 0; i < 2; i++) trainStep(model, optimizer, x, labels, targets);

  // Untimed steps with the profiler wrapped around every kernel, then timed steps without it.
  let profile: { name: string; msPerStep: number; calls: number }[] = [];
  let profiledStepMs = 0;
  if (o.profile) {
    const profiler = new KernelProfiler(o.backend);
    const steps = Math.max(1, Math.min(5, Math.round(o.seconds / 4)));
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) trainStep(model, optimizer, x, labels, targets);
    profiledStepMs = (performance.now() - t0) / steps;
    profile = profiler.top().map((s) => ({ name: s.name, msPerStep: s.ms / steps, calls: s.calls / steps }));
    profiler.restore();
  }

  let steps = 0;
  let loss = NaN;
  const numTensors = tf.memory().numTensors;
  const t0 = performance.now();
  while (performance.now() - t0 < o.seconds * 1000) {
    loss = trainStep(model, optimizer, x, labels, targets);
    steps++;
  }
  const seconds = (performance.now() - t0) / 1000;
  const result = {
    engine: `tfjs-${o.backend}${o.stock ? '-stock' : '-mtl'}`,
    model: 'cnn',
    batch: o.batch,
    steps,
    seconds: Number(seconds.toFixed(3)),
    samples_per_s: Number(((steps * o.batch) / seconds).toFixed(1)),
    ms_per_step: Number(((seconds * 1000) / steps).toFixed(1)),
    loss: Number(loss.toFixed(4)),
    tensor_leak_per_step: (tf.memory().numTensors - numTensors) / steps,
  };
  console.log(JSON.stringify(result));
  if (o.peer) {
    const peerAfter = runPeer(o);
    const peers = [peerBefore, peerAfter].filter((p): p is number => p !== null);
    if (peers.length > 0) {
      const mean = peers.reduce((a, b) => a + b, 0) / peers.length;
      console.log(`ratio to PyTorch (${o.peerThreads} thread${o.peerThreads > 1 ? 's' : ''}, mean of ${peers.length}): ` +
        `${(result.samples_per_s / mean).toFixed(2)}`);
    }
  }
  if (o.profile) {
    const kernelMs = profile.reduce((s, p) => s + p.msPerStep, 0);
    console.log(`profile (ms/step; profiled step ${profiledStepMs.toFixed(1)} ms, kernels ${kernelMs.toFixed(1)} ms, ` +
      `outside kernels ${(profiledStepMs - kernelMs).toFixed(1)} ms):`);
    for (const p of profile.slice(0, 25)) {
      const pct = (100 * p.msPerStep) / profiledStepMs;
      console.log(`  ${p.name.padEnd(24)} ${p.msPerStep.toFixed(2).padStart(9)} ms ${pct.toFixed(1).padStart(5)}%  ${p.calls} calls`);
    }
  }
  tf.dispose([x, labels, targets]);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
