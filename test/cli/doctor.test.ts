import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { doctorReport, hasNvidiaSmi } from '../../src/cli/doctor';
import { findLibrary } from '../../src/backends/gpu-check';
import { repoRoot, tempDir, writeFile } from '../helpers/tmp';

test('doctor lists the engines that load, the one auto picks, and the GPU checks with fixes', () => {
  const report = doctorReport();
  const byName = Object.fromEntries(report.backends.map((b) => [b.name, b]));
  assert.equal(byName.wasm.loads, true, 'wasm ships in npm');
  assert.equal(byName.cpu.loads, true, 'the JS cpu backend ships in npm');
  assert.equal(report.auto, report.backends.find((b) => b.loads && (b.name !== 'webgpu' || b.info!.gpu))!.name, 'auto takes the first that loads (webgpu: on a hardware adapter)');
  assert.ok(report.webgpu.adapter || report.webgpu.error, 'the WebGPU adapter, or why there is none');
  if (report.webgpu.adapter) assert.ok(report.webgpu.adapter.limits.maxBufferSize > 0, 'adapter limits');
  for (const b of report.backends.filter((b) => !b.loads)) assert.ok(b.error && b.error.length < 200, `${b.name}: a short reason`);
  assert.deepEqual(report.gpu.libraries.map((l) => l.name), ['libcudart.so.11.0', 'libcublas.so.11', 'libcudnn.so.8']);
  for (const p of report.gpu.problems) assert.ok(p.fix.length > 10, `a fix for: ${p.problem}`);
});

test('libraries are found on LD_LIBRARY_PATH', () => {
  const dir = tempDir();
  writeFile(dir, 'libcudnn.so.8', '');
  const before = process.env.LD_LIBRARY_PATH;
  process.env.LD_LIBRARY_PATH = dir;
  try {
    assert.equal(findLibrary('libcudnn.so.8', ''), path.join(dir, 'libcudnn.so.8'));
  } finally {
    process.env.LD_LIBRARY_PATH = before;
  }
});

test('--device gpu without a working GPU exits 1 with the doctor\'s advice, never training on the CPU', { skip: hasNvidiaSmi() ? 'this machine has an NVIDIA GPU' : false }, () => {
  const out = path.join(tempDir(), 'run');
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'mtl.js'), 'train', path.join(repoRoot, 'configs', 'penguins.yaml'), '--device', 'gpu', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--device gpu: no GPU backend could be loaded/);
  assert.match(r.stderr, /mtl does not fall back to the CPU/);
  assert.match(r.stderr, /libcudnn\.so\.8 \(cuDNN 8\.1\) not found/);
  assert.doesNotMatch(r.stdout, /epoch/);
});
