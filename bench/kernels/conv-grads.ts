/**
 * Microbenchmark of the convolution kernels on the layer shapes of the reference
 * ResNet-14 (batch 64): forward Conv2D, Conv2DBackpropFilter and
 * Conv2DBackpropInput, in ms and GFLOP/s (2 FLOP per multiply-add).
 *
 *   node dist/bench/kernels/conv-grads.js [--backend wasm|cpu] [--stock] [--batch 64] [--reps 15]
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

/** Best of `reps` timed calls after one warm-up (the machines here are noisy; the minimum is stable). */
function timeMs(f: () => tf.Tensor, reps: number): number {
  try {
    tf.dispose(f());
  } catch {
    return NaN; // e.g. a kernel the stock backend lacks
  }
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    tf.dispose(f());
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const backend = argv.includes('--backend') ? argv[argv.indexOf('--backend') + 1] : 'wasm';
  const batch = argv.includes('--batch') ? Number(argv[argv.indexOf('--batch') + 1]) : 64;
  const reps = argv.includes('--reps') ? Number(argv[argv.indexOf('--reps') + 1]) : 15;
  if (!argv.includes('--stock')) {
    registerWasmTrainingKernels();
    registerCpuTrainingKernels();
  }
  await tf.setBackend(backend);
  const totals = { fwd: 0, filter: 0, input: 0 };
  console.log('layer            fwd ms  GF/s | dW ms  GF/s | dx ms  GF/s   (x count)');
  for (const [name, hw, cin, cout, k, s, count] of LAYERS) {
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
    console.log(`${name.padEnd(15)} ${f(fwd)} | ${f(filter)} | ${f(input)}   x${count}`);
    tf.dispose([x, w, y, dy]);
  }
  console.log(`network totals ms: forward ${totals.fwd.toFixed(1)}, filter grads ${totals.filter.toFixed(1)}, input grads ${totals.input.toFixed(1)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
