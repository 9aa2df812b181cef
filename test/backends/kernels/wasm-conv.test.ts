import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/kernels/wasm';
import { conv2dBackpropFilterConfig } from '../../../src/backends/kernels/wasm/conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from '../../../src/backends/kernels/wasm/conv2d-backprop-input';
import { conv2dConfig, fusedConv2dConfig } from '../../../src/backends/kernels/wasm/conv2d';
import { convGeometry } from '../../../src/backends/kernels/conv-geometry';
import { forwardPlan, inputGradPlan } from '../../../src/backends/kernels/conv-plans';
import { asWasm, heapPtr, wasmMemory } from '../../../src/backends/kernels/wasm/backend';
import { gatherApplies } from '../../../src/backends/kernels/wasm/gather-conv';
import { convFilterGradModule } from '../../../src/backends/kernels/wasm/simd/conv-filter-grad';
import { directConvModule } from '../../../src/backends/kernels/wasm/simd/direct-conv';
import { instantiate } from '../../../src/backends/kernels/wasm/simd/emit';
import { tileName, winogradTaps, winogradTile } from '../../../src/backends/kernels/wasm/simd/winograd';
import { winogradFilterGradTile } from '../../../src/backends/kernels/wasm/simd/winograd-filter-grad';
import { CONV_CASES, CONV_OUTPUT_NAMES, ConvCase, convKernelOutputs, describeCase, outShape, WINOGRAD_1D_CASES } from './conv-cases';
import {
  assertClose, assertMatchesFiniteDifferences, finiteDifferences, on, randomTensor, someEntries, values,
} from './helpers';

registerWasmTrainingKernels();
registerWasmTrainingKernels();

const attrs = (c: ConvCase) => ({ strides: c.strides, pad: c.pad, dataFormat: 'NHWC' }) as const;

const filterGrad = (c: ConvCase, x: tf.Tensor, dy: tf.Tensor) =>
  tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs(c), filterShape: c.filter } as unknown as tf.NamedAttrMap) as tf.Tensor;

test('registration is idempotent and installs the mtl kernels on wasm', () => {
  for (const config of [conv2dConfig, fusedConv2dConfig, conv2dBackpropFilterConfig, conv2dBackpropInputConfig]) {
    assert.equal(tf.getKernel(config.kernelName, 'wasm')?.kernelFunc, config.kernelFunc, config.kernelName);
  }
});

for (const [k, c] of [...CONV_CASES, ...WINOGRAD_1D_CASES].entries()) {
  test(`conv kernels on wasm match the cpu backend and finite differences: ${describeCase(c)}`, async () => {
    const run = (backend: string) => on(backend, () => convKernelOutputs(c, k));
    const ref = await run('cpu');
    const got = await run('wasm');
    CONV_OUTPUT_NAMES.forEach((what, i) => assertClose(got[i], ref[i], what));
    const [dW, dx] = [got[3], got[4]];

    // Central differences of the forward op (on cpu): loss = sum(conv2d(x, w) * dy) is
    // bilinear, so differences are exact up to rounding.
    await tf.setBackend('cpu');
    const [x, w] = [randomTensor(c.x, 10 + k), randomTensor(c.filter, 20 + k)];
    const r = values(outShape(c).reduce((a, b) => a * b, 1), 30 + k);
    const f = ([xi, wi]: tf.Tensor[]) => tf.conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, c.strides, c.pad);
    assertMatchesFiniteDifferences(dW, finiteDifferences(f, [x, w], r, 1, someEntries(w.size, 6), 0.5), 'dW', 1e-3, 1e-4);
    assertMatchesFiniteDifferences(dx, finiteDifferences(f, [x, w], r, 0, someEntries(x.size, 6), 0.5), 'dx', 1e-3, 1e-4);
    tf.dispose([x, w]);
  });
}

test('dilated and explicitly padded Conv2D on wasm match the cpu backend', async () => {
  const run = (backend: string) => on(backend, () => {
    const x = randomTensor([2, 9, 8, 5], 1) as tf.Tensor4D;
    const w = randomTensor([3, 3, 5, 6], 2) as tf.Tensor4D;
    return [
      tf.conv2d(x, w, 1, 'same', 'NHWC', 2),
      tf.conv2d(x, w, 2, [[0, 0], [2, 1], [0, 3], [0, 0]]),
    ];
  });
  const ref = await run('cpu');
  const got = await run('wasm');
  assertClose(got[0], ref[0], 'dilated');
  assertClose(got[1], ref[1], 'explicit padding');
});

test('FusedConv2D with unsupported activations falls back to the stock kernel', async () => {
  const run = (backend: string) => on(backend, () => {
    const x = randomTensor([2, 6, 6, 3], 1) as tf.Tensor4D;
    const w = randomTensor([3, 3, 3, 4], 2) as tf.Tensor4D;
    return tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'same', bias: randomTensor([4], 3), activation: 'elu' });
  });
  assertClose((await run('wasm'))[0], (await run('cpu'))[0], 'elu');
});

test('the scalar-tail variants of the generated kernels (used when the heap has no slack) are correct too', async () => {
  const c: ConvCase = { x: [3, 9, 7, 6], filter: [3, 3, 6, 7], strides: 2, pad: 'same' };
  const ref = await on('cpu', () => {
    const x = randomTensor(c.x, 1);
    const w = randomTensor(c.filter, 2);
    const dy = randomTensor(outShape(c), 3);
    return [tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad), filterGrad(c, x, dy)];
  });
  await tf.setBackend('wasm');
  const wasm = asWasm(tf.backend());
  const x = randomTensor(c.x, 1);
  const w = randomTensor(c.filter, 2);
  const dy = randomTensor(outShape(c), 3);
  const y = tf.zeros(outShape(c));
  const dw = tf.zeros(c.filter);
  const g = convGeometry(c.x, c.filter, { ...attrs(c) });
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad);
  const plan = forwardPlan(info, false, false);
  const padded = tf.pad(x, [[0, 0], [plan.pads.top, plan.pads.bottom], [plan.pads.left, plan.pads.right], [0, 0]]);
  const ptr = (t: tf.Tensor) => heapPtr(wasm, t);
  instantiate(directConvModule({ ...plan.spec, maskedTail: false }), wasmMemory(wasm)).conv(ptr(padded), ptr(w), 0, ptr(y));
  instantiate(convFilterGradModule(g, false), wasmMemory(wasm)).dw(ptr(x), ptr(dy), ptr(dw));
  assertClose(y.dataSync(), ref[0], 'direct conv, scalar tail');
  assertClose(dw.dataSync(), ref[1], 'filter gradient, scalar tail');
  tf.dispose([x, w, dy, y, dw, padded]);
});

test('the Winograd path is the one taken for the stride-1 3x3 cases above (forward, input gradient, filter gradient), F(4x4) forward and for the input gradient of the 8x12 output', () => {
  const cases = CONV_CASES.filter((c) => c.strides === 1 && c.filter[0] === 3 && c.filter[2] % 4 === 0 && c.filter[2] >= 8);
  assert.equal(cases.length, 3);
  for (const c of cases) {
    const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad);
    const forward = forwardPlan(info, false, false).spec;
    assert.ok(winogradTaps(forward) !== null, `forward ${describeCase(c)}`);
    const plan = inputGradPlan(convGeometry(c.x, c.filter, attrs(c)));
    assert.ok(plan.phases.length === 1 && winogradTaps(plan.phases[0].spec) !== null, `input gradient ${describeCase(c)}`);
    const four = outShape(c)[1] % 4 === 0 && outShape(c)[2] % 4 === 0 && outShape(c)[1] >= 8;
    const expected = four ? 'F(4x4,3x3)' : 'F(2x2,3x3)';
    assert.equal(tileName(winogradTile(forward)!), expected, `tile ${describeCase(c)}`);
    assert.equal(tileName(winogradTile(plan.phases[0].spec)!), expected, `input gradient tile ${describeCase(c)}`);
    const filterTile = winogradFilterGradTile(convGeometry(c.x, c.filter, attrs(c)));
    assert.equal(filterTile && tileName(filterTile), 'F(2x2,3x3)', `filter gradient tile ${describeCase(c)}`);
  }
});

test('1x3 and 3x1 kernels take the 1-D Winograd tiles in all three kernels (F2 where the output is not a multiple of 4, direct where it is odd)', () => {
  const tile = (spec: Parameters<typeof winogradTaps>[0]) => (winogradTaps(spec) === null ? null : tileName(winogradTile(spec)!));
  for (const c of WINOGRAD_1D_CASES) {
    const g = convGeometry(c.x, c.filter, attrs(c));
    assert.ok(!gatherApplies(g, 'forward') && !gatherApplies(g, 'input') && !gatherApplies(g, 'filter'), `not gathered: ${describeCase(c)}`);
    const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad);
    assert.equal(tile(forwardPlan(info, false, false).spec), c.forwardTile, `forward ${describeCase(c)}`);
    const plan = inputGradPlan(g);
    assert.equal(plan.phases.length, 1);
    assert.equal(tile(plan.phases[0].spec), c.inputTile, `input gradient ${describeCase(c)}`);
    const filterTile = winogradFilterGradTile(g);
    assert.equal(filterTile && tileName(filterTile), c.filterTile, `filter gradient ${describeCase(c)}`);
  }
});
