/**
 * Microbenchmark of the convolution kernels on the layer shapes of the reference
 * ResNet-14 (batch 64) or of ResNet-50 at 64x64 (`--net resnet50`, batch 16):
 * forward Conv2D, Conv2DBackpropFilter and Conv2DBackpropInput, in ms and GFLOP/s
 * (2 FLOP per multiply-add of the convolution's nominal size, padding included).
 *
 *   node dist/bench/kernels/conv-grads.js [--backend wasm|cpu] [--stock] [--net resnet14|resnet50] [--batch N] [--reps 15]
 *     [--only NAME] [--clock wall|cpu]
 *
 * MTL_GATHER_CONV=all|none forces the wasm gather kernels on or off; MTL_RELAXED_SIMD=0
 * keeps the kernels off fused multiply-add.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerCpuTrainingKernels } from '../../src/backends/kernels/cpu';
import { registerWasmTrainingKernels } from '../../src/backends/kernels/wasm';

/** [name, H=W, Cin, Cout, K, stride, count in the network] */
const LAYERS: [string, number, number, number, number, number, number][] = [
  ['stem 3x3 3->16', 32, 3, 16, 3, 1, 1],
  ['3x3 16->16', 32, 16, 16, 3, 1, 4],
  ['3x3/2 16->32', 32, 16, 32, 3, 2, 1],
  ['1x1/2 16->32', 32, 16, 32, 1, 2, 1],
  ['3x3 32->32', 16, 32, 32, 3, 1, 3],
  ['3x3/2 32->64', 16, 32, 64, 3, 2, 1],
  ['1x1/2 32->64', 16, 32, 64, 1, 2, 1],
  ['3x3 64->64', 8, 64, 64, 3, 1, 3],
];

/** ResNet-50 at 64x64: the stem, then each stage's layers (the first block's stride-2 1x1s and projection). */
const RESNET50: [string, number, number, number, number, number, number][] = [
  ['stem 7x7/2 3->64', 64, 3, 64, 7, 2, 1],
  ['1x1 64->64 @16', 16, 64, 64, 1, 1, 1],
  ['3x3 64->64 @16', 16, 64, 64, 3, 1, 3],
  ['1x1 64->256 @16', 16, 64, 256, 1, 1, 4],
  ['1x1 256->64 @16', 16, 256, 64, 1, 1, 2],
  ['1x1/2 256->128 @16', 16, 256, 128, 1, 2, 1],
  ['1x1/2 256->512 @16', 16, 256, 512, 1, 2, 1],
  ['3x3 128->128 @8', 8, 128, 128, 3, 1, 4],
  ['1x1 128->512 @8', 8, 128, 512, 1, 1, 4],
  ['1x1 512->128 @8', 8, 512, 128, 1, 1, 3],
  ['1x1/2 512->256 @8', 8, 512, 256, 1, 2, 1],
  ['1x1/2 512->1024 @8', 8, 512, 1024, 1, 2, 1],
  ['3x3 256->256 @4', 4, 256, 256, 3, 1, 6],
  ['1x1 256->1024 @4', 4, 256, 1024, 1, 1, 6],
  ['1x1 1024->256 @4', 4, 1024, 256, 1, 1, 5],
  ['1x1/2 1024->512 @4', 4, 1024, 512, 1, 2, 1],
  ['1x1/2 1024->2048 @4', 4, 1024, 2048, 1, 2, 1],
  ['3x3 512->512 @2', 2, 512, 512, 3, 1, 3],
  ['1x1 512->2048 @2', 2, 512, 2048, 1, 1, 3],
  ['1x1 2048->512 @2', 2, 2048, 512, 1, 1, 2],
];

/** The process's CPU milliseconds (--clock cpu: steadier than wall time on a loaded machine) or wall milliseconds. */
const cpuClock = process.argv.includes('--clock') && process.argv[process.argv.indexOf('--clock') + 1] === 'cpu';
const now = cpuClock ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; } : () => performance.now();

/** Best of `reps` timed calls after one warm-up (the machines here are noisy; the minimum is stable). */
function timeMs(f: () => tf.Tensor, reps: number): number {
  try {
    tf.dispose(f());
  } catch {
    return NaN; // e.g. a kernel the stock backend lacks
  }
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = now();
    tf.dispose(f());
    best = Math.min(best, now() - t0);
  }
  return best;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const backend = argv.includes('--backend') ? argv[argv.indexOf('--backend') + 1] : 'wasm';
  const net = argv.includes('--net') ? argv[argv.indexOf('--net') + 1] : 'resnet14';
  const batch = argv.includes('--batch') ? Number(argv[argv.indexOf('--batch') + 1]) : net === 'resnet50' ? 16 : 64;
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : '';
  const reps = argv.includes('--reps') ? Number(argv[argv.indexOf('--reps') + 1]) : 15;
  if (!argv.includes('--stock')) {
    registerWasmTrainingKernels();
    registerCpuTrainingKernels();
  }
  await tf.setBackend(backend);
  const totals = { fwd: 0, filter: 0, input: 0 };
  console.log(`${'layer'.padEnd(20)}   fwd ms  GF/s | dW ms  GF/s | dx ms  GF/s   (x count)`);
  for (const [name, hw, cin, cout, k, s, count] of net === 'resnet50' ? RESNET50 : LAYERS) {
    if (only && !name.includes(only)) continue;
    const x = tf.randomNormal([batch, hw, hw, cin]) as tf.Tensor4D;
    const w = tf.randomNormal([k, k, cin, cout]) as tf.Tensor4D;
    const y = tf.conv2d(x, w, s, 'same');
    const dy = tf.randomNormal(y.shape);
    const gflop = (2 * y.size * k * k * cin) / 1e9;
    const attrs = { strides: s, pad: "same", dataFormat: "NHWC" };
    const fwd = timeMs(() => tf.conv2d(x, w, s, 'same'), reps);
    const filter = timeMs(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape } as unknown as tf.NamedAttrMap) as tf.Tensor, reps);
    const input = timeMs(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor, reps);
    totals.fwd += fwd * count;
    totals.filter += filter * count;
    totals.input += input * count;
    const f = (ms: number): string =>
      Number.isNaN(ms) ? '   n/a   n/a' : `${ms.toFixed(2).padStart(6)} ${(gflop / (ms / 1000)).toFixed(1).padStart(5)}`;
    console.log(`${name.padEnd(20)} ${f(fwd)} | ${f(filter)} | ${f(input)}   x${count}`);
    tf.dispose([x, w, y, dy]);
  }
  console.log(`network totals ms: forward ${totals.fwd.toFixed(1)}, filter grads ${totals.filter.toFixed(1)}, input grads ${totals.input.toFixed(1)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
