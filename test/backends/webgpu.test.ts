/**
 * The webgpu engine (tfjs-backend-webgpu 4.22 on Dawn). Without a GPU, CI gets a
 * software Vulkan adapter from Mesa's lavapipe (.ci/run installs mesa-vulkan-drivers);
 * where no adapter can be had at all the tests that need one are skipped with the
 * reason. Tolerance against the cpu backend: 1e-4 (relative for losses, absolute for
 * weights, scaled by max(1, |w|)); on lavapipe the runs agree to about 1e-6.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backends';
import { registerCpuTrainingKernels } from '../../src/backends/kernels/cpu';
import { adamUpdate } from '../../src/backends/kernels/adam';
import { maskedPoolKernel } from '../../src/backends/kernels/masked-pool';
import { firstUncapturedError, isSoftwareAdapter } from '../../src/backends/webgpu';
import { trainCommand } from '../../src/api/train';
import { InterruptedError, UserError } from '../../src/errors';
import type { StopSignal } from '../../src/training/loop';
import { silentProgress, type ProgressReporter } from '../../src/training/progress';
import { captureOutput } from '../helpers/output';
import { coreCases, runParity } from '../helpers/parity';
import { checkpointWeights, maxAbsDiff, metricRows } from '../helpers/run';
import { repoRoot, tempDir } from '../helpers/tmp';

const TOLERANCE = 1e-4;
let unavailable: string | false = false;

before(async () => {
  try {
    const info = await initBackend({ device: 'auto', backend: 'webgpu' });
    console.log(`webgpu adapter: ${info.adapter?.vendor} ${info.adapter?.device} (${info.adapter?.description})`);
  } catch (e) {
    unavailable = `no WebGPU adapter here (${(e as Error).message.split('\n')[0]}); install mesa-vulkan-drivers 23+ (lavapipe) or a GPU's Vulkan driver`;
    console.log(`skipping the webgpu tests: ${unavailable}`);
  }
});

test('software adapters are told apart from GPUs', () => {
  const info = (vendor: string, architecture: string, device: string, description: string, isFallbackAdapter = false) => ({ vendor, architecture, device, description, isFallbackAdapter });
  assert.equal(isSoftwareAdapter(info('mesa', 'software', 'llvmpipe-llvm-15-0-6-256-bits-', 'llvmpipe: Mesa 25.0.7')), true);
  assert.equal(isSoftwareAdapter(info('google', '', 'swiftshader-device', 'SwiftShader Device (Subzero)')), true);
  assert.equal(isSoftwareAdapter(info('nvidia', 'ampere', 'nvidia-geforce-rtx-3080', 'NVIDIA: 550.54')), false);
  assert.equal(isSoftwareAdapter(info('amd', 'rdna-2', 'amd-radeon', 'radv Mesa 24')), false);
  assert.equal(isSoftwareAdapter(info('', '', '', '', true)), true);
});

/** Runs `f` on the cpu backend (with mtl's cpu kernels) and on webgpu; returns both results as arrays. */
function onBoth(f: () => tf.Tensor[]): { cpu: number[][]; webgpu: number[][] } {
  const run = (backend: string) => {
    tf.setBackend(backend);
    return tf.tidy(() => f().map((t) => Array.from(t.dataSync())));
  };
  registerCpuTrainingKernels();
  const cpu = run('cpu');
  const webgpu = run('webgpu');
  return { cpu, webgpu };
}

function assertClose(a: number[][], b: number[][], tolerance: number, label: string): void {
  assert.equal(a.length, b.length, label);
  a.forEach((x, i) => {
    assert.equal(x.length, b[i].length, `${label}: output ${i} length`);
    const diff = maxAbsDiff(Float32Array.from(x), Float32Array.from(b[i]));
    assert.ok(diff <= tolerance, `${label}: output ${i} differs by ${diff}`);
  });
}

test('mtl\'s WGSL kernels and kernel fixes agree with the cpu backend', async (t) => {
  if (unavailable) return t.skip(unavailable);
  // tfjs-backend-cpu registers 'cpu' when loaded; the engine stays webgpu for the rest of the file.
  require('@tensorflow/tfjs-backend-cpu');
  const values = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * 2);
  try {
    const adam = onBoth(() => {
      const shape = [37, 5];
      const [w, g, m, v] = [1, 2, 3, 4].map((s) => tf.tensor(values(185, s), shape));
      return adamUpdate(w, g, m, tf.abs(v), { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 3 });
    });
    assertClose(adam.cpu, adam.webgpu, 1e-6, 'MtlAdam');

    const repeat = onBoth(() => [tf.engine().runKernel('MtlRepeat', { x: tf.tensor(values(24, 1), [2, 1, 12]) }, { shape: [2, 7, 12] }) as tf.Tensor]);
    assertClose(repeat.cpu, repeat.webgpu, 0, 'MtlRepeat');

    // Ids with padding, rows without tokens, and repeated windows (ties in the max).
    const ids = Array.from({ length: 6 * 9 }, (_, i) => ((i % 9) < (i % 6) + (i % 4) ? 1 + (i % 5) : 0));
    for (const mode of ['mean', 'max'] as const) {
      const pool = onBoth(() => {
        const x = tf.tensor(values(6 * 9 * 8, 5).map((v, i) => (i % 16 < 8 ? Math.round(v) : v)), [6, 9, 8]);
        const idTensor = tf.tensor(ids, [6, 9], 'float32');
        const f = (input: tf.Tensor) => tf.sum(tf.mul(maskedPoolKernel(input, idTensor, mode)!, tf.range(1, 9)));
        return [maskedPoolKernel(x, idTensor, mode)!, tf.grad(f)(x)];
      });
      assertClose(pool.cpu, pool.webgpu, 1e-5, `MtlMaskedPool ${mode}`);
    }

    // int32 -> float32 must convert the buffer (tfjs relabels it): a transpose of the cast then compiles.
    const cast = onBoth(() => [tf.transpose(tf.cast(tf.tensor(Array.from({ length: 2000 }, (_, i) => i % 97), [40, 50], 'int32'), 'float32'), [1, 0])]);
    assertClose(cast.cpu, cast.webgpu, 0, 'Cast + Transpose');

    // More inputs than a shader may bind storage buffers for.
    const addN = onBoth(() => [tf.addN(Array.from({ length: 40 }, (_, k) => tf.tensor(values(3000, k), [3000])))]);
    assertClose(addN.cpu, addN.webgpu, 1e-4, 'AddN of 40');
  } finally {
    tf.setBackend('webgpu');
  }
  assert.equal(firstUncapturedError(), undefined, 'no WebGPU validation error');
  // Synchronous reads leave the asynchronous ones working.
  const x = tf.add(tf.tensor([1, 2, 3]), 1);
  assert.deepEqual(Array.from(x.dataSync()), [2, 3, 4]);
  assert.deepEqual(Array.from(await tf.mul(x, 2).data()), [4, 6, 8]);
});

test('the MLP and a small ResNet train a few steps on webgpu as on the cpu backend', (t) => {
  if (unavailable) return t.skip(unavailable);
  const dir = tempDir();
  coreCases.forEach((c, i) => {
    const r = runParity(c, dir, 'cpu', 'webgpu', i);
    assert.ok(r.lossDiff <= TOLERANCE, `${c.name}: losses differ by ${r.lossDiff} (relative)`);
    assert.ok(r.weightDiff <= TOLERANCE * Math.max(1, r.weightScale), `${c.name}: weights differ by ${r.weightDiff}`);
  });
});

const penguins = path.join(repoRoot, 'configs', 'penguins.yaml');

test('on webgpu a run interrupted mid-epoch resumes exactly, and a NaN loss stops training', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const epochs = 3;
  const straight = path.join(tempDir(), 'straight');
  await trainCommand({ config: penguins, out: straight, epochs }, captureOutput(), silentProgress);
  const run = path.join(tempDir(), 'run');
  const stop: StopSignal = { requested: false };
  let epoch = 0;
  const progress: ProgressReporter = { ...silentProgress, startEpoch: (e) => (epoch = e), step: (step) => void (epoch === 2 && step === 3 && (stop.requested = true)) };
  await assert.rejects(trainCommand({ config: penguins, out: run, epochs }, captureOutput(), progress, stop), (e) => e instanceof InterruptedError);
  await trainCommand({ resume: run }, captureOutput(), silentProgress);
  assert.ok(maxAbsDiff(checkpointWeights(run), checkpointWeights(straight)) <= 1e-6, 'the resumed run ends with the same weights');
  assert.deepEqual(metricRows(run), metricRows(straight));

  const good = checkpointWeights(run);
  await assert.rejects(
    trainCommand({ resume: run, epochs: 5, force: true, set: ['training.early_stopping.patience=100', 'training.optimizer={type: sgd, learning_rate: 1000}'] }, captureOutput(), silentProgress),
    (e) => e instanceof UserError && e.exitCode === 1 && /training diverged: .* became NaN or infinite at epoch 4/.test(e.message),
  );
  assert.deepEqual(Array.from(checkpointWeights(run)), Array.from(good), 'the last good checkpoint is untouched');
});
