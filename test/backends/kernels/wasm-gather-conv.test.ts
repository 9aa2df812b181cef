import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { convGeometry } from '../../../src/backends/kernels/conv-geometry';
import { gatherPlan, GATHER_ROWS } from '../../../src/backends/kernels/gather-plan';
import { gatherApplies } from '../../../src/backends/kernels/wasm/gather-conv';
import { CONV_CASES, CONV_OUTPUT_NAMES, ConvCase, convKernelOutputs, describeCase } from './conv-cases';
import { assertClose, countCalls, on, randomTensor } from './helpers';

registerWasmTrainingKernels();


/** The CONV_CASES with channels in fours (the gather kernels' domain), plus ResNet-50-like small-image layers. */
const CASES: ConvCase[] = [
  ...CONV_CASES.filter((c) => c.filter[3] % 4 === 0),
  { x: [3, 2, 2, 16], filter: [3, 3, 16, 8], strides: 1, pad: 'same' },
  { x: [5, 4, 4, 12], filter: [3, 3, 12, 20], strides: 1, pad: 'same' },
  { x: [3, 4, 4, 24], filter: [1, 1, 24, 36], strides: 2, pad: 'same' },
  { x: [2, 3, 5, 8], filter: [1, 1, 8, 44], strides: 1, pad: 'same' },
  { x: [1, 9, 9, 3], filter: [7, 7, 3, 8], strides: 2, pad: 'same' },
  { x: [2, 5, 5, 6], filter: [5, 5, 6, 4], strides: 1, pad: 'valid' },
  // several row chunks in each of the three kernels
  { x: [4, 16, 16, 64], filter: [3, 3, 64, 96], strides: 1, pad: 'same' },
  // blocks of input channels (forward) and of output channels (input gradient)
  { x: [2, 2, 2, 512], filter: [1, 1, 512, 1024], strides: 1, pad: 'same' },
  { x: [2, 3, 3, 768], filter: [3, 3, 768, 12], strides: 1, pad: 'same' },
];

/** The three kernels with the gather path forced on (MTL_GATHER_CONV=all), or forced off. */
async function run(backend: string, c: ConvCase, k: number, mode: 'all' | 'none'): Promise<Float32Array[]> {
  process.env.MTL_GATHER_CONV = mode;
  try {
    return await on(backend, () => convKernelOutputs(c, k));
  } finally {
    delete process.env.MTL_GATHER_CONV;
  }
}

for (const [k, c] of CASES.entries()) {
  test(`gather conv kernels on wasm match the cpu backend: ${describeCase(c)}`, async () => {
    const ref = await run('cpu', c, k, 'none');
    const got = await run('wasm', c, k, 'all');
    // and the direct / Winograd kernels these shapes no longer take by default, so they stay tested
    const direct = await run('wasm', c, k, 'none');
    CONV_OUTPUT_NAMES.forEach((what, i) => {
      // The input gradient needs input channels in fours; otherwise the other kernels run it.
      assertClose(got[i], ref[i], what);
      assertClose(direct[i], ref[i], `${what} (direct kernels)`);
    });
  });
}

test('the plan lists every valid (tap, pixel) pair once, padded to whole register tiles', () => {
  const g = convGeometry([2, 4, 4, 8], [3, 3, 8, 8], { strides: 1, pad: 'same', dataFormat: 'NHWC' });
  const plan = gatherPlan(g);
  assert.equal(plan.taps.length, 9);
  assert.equal(plan.taps[0].tap, 4, 'the centre tap, which covers every output pixel, comes first');
  assert.ok(plan.firstCoversOutput);
  // per image: 16 pixels x 9 taps minus those falling into the padding = 100
  assert.equal(plan.taps.reduce((s, t) => s + t.valid, 0), 2 * 100);
  for (const t of plan.taps) assert.equal(t.rows % GATHER_ROWS, 0);
  const g1 = convGeometry([2, 4, 4, 8], [1, 1, 8, 8], { strides: 1, pad: 'same', dataFormat: 'NHWC' });
  assert.ok(gatherPlan(g1).firstCoversInput);
});

test('the gather kernels take the small-image and 1x1 layers of a ResNet-50 and leave the large 3x3 ones', async () => {
  const geometry = (x: number[], f: number[], s: number) => convGeometry(x, f, { strides: s, pad: 'same', dataFormat: 'NHWC' });
  assert.ok(gatherApplies(geometry([16, 2, 2, 512], [3, 3, 512, 512], 1), 'forward'));
  assert.ok(gatherApplies(geometry([16, 16, 16, 64], [1, 1, 64, 256], 1), 'filter'));
  assert.ok(!gatherApplies(geometry([16, 16, 16, 64], [3, 3, 64, 64], 1), 'forward'));
  assert.ok(!gatherApplies(geometry([16, 8, 8, 128], [3, 3, 128, 128], 1), 'input'));
  assert.ok(gatherApplies(geometry([16, 4, 4, 256], [3, 3, 256, 256], 1), 'input'));
  assert.ok(!gatherApplies(geometry([16, 4, 4, 256], [3, 3, 256, 256], 1), 'forward'));
  assert.ok(!gatherApplies(geometry([16, 64, 64, 3], [7, 7, 3, 64], 2), 'forward'));
  await tf.setBackend('wasm');
  const x = randomTensor([4, 2, 2, 16], 1) as tf.Tensor4D;
  const w = randomTensor([3, 3, 16, 16], 2) as tf.Tensor4D;
  const calls = await countCalls('Conv2D', 'wasm', () => { tf.dispose(tf.conv2d(x, w, 1, 'same')); });
  assert.equal(calls, 1);
  tf.dispose([x, w]);
});
