/**
 * `mtl doctor`: which engines load here (each probed in its own process, since
 * loading one switches tfjs's global backend), which one `--device auto` picks, and
 * the state of the GPU path with what to do about each problem.
 */
import type { Command } from 'commander';
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import Table from 'cli-table3';
import { backendNames, type BackendInfo, type BackendName } from '../backends';
import { checkGpuEnvironment, type GpuReport } from '../backends/gpu-check';
import type { AdapterReport } from '../backends/webgpu';
import type { Output } from './options';

export interface BackendProbe {
  name: BackendName;
  loads: boolean;
  info?: BackendInfo;
  error?: string;
}

export interface DoctorReport {
  node: string;
  platform: string;
  cpus: number;
  backends: BackendProbe[];
  /** What `--device auto` would use. */
  auto?: BackendName;
  gpu: GpuReport;
  /** The WebGPU path: the adapter Dawn found, or why there is none. */
  webgpu: { adapter?: AdapterReport; error?: string };
}

function probe(name: BackendName): BackendProbe {
  // webgpu is probed by name under auto, which accepts a software adapter too (shown as such).
  const device = name === 'tensorflow-gpu' ? 'gpu' : name === 'webgpu' ? 'auto' : 'cpu';
  const script = `require(${JSON.stringify(require.resolve('../backends'))}).initBackend({device: '${device}', backend: '${name}'})
    .then((info) => process.stdout.write(JSON.stringify(info)), (e) => { process.stdout.write(JSON.stringify({error: String(e.message).split('\\n')[0]})); })`;
  try {
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60000 });
    const parsed = JSON.parse(out) as BackendInfo & { error?: string };
    if (!parsed.error) return { name, loads: true, info: parsed };
    // initBackend's message lists every engine it tried; keep this one's reason.
    const reason = new RegExp(`${name}: ([^;)]+)`).exec(parsed.error)?.[1] ?? parsed.error;
    return { name, loads: false, error: reason };
  } catch (e) {
    return { name, loads: false, error: String((e as Error).message).split('\n')[0] };
  }
}

export function doctorReport(): DoctorReport {
  const backends = backendNames.map(probe);
  const webgpu = backends.find((b) => b.name === 'webgpu');
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    backends,
    // --device auto passes over a software WebGPU adapter.
    auto: backends.find((b) => b.loads && (b.name !== 'webgpu' || b.info?.gpu))?.name,
    gpu: checkGpuEnvironment(),
    webgpu: webgpu?.info?.adapter ? { adapter: webgpu.info.adapter } : { error: webgpu?.error ?? 'not probed' },
  };
}

export function doctorCommand(options: { json?: boolean }, out: Output): DoctorReport {
  const report = doctorReport();
  if (options.json) {
    out.log(JSON.stringify(report, null, 2));
    return report;
  }
  out.log(`node ${report.node} on ${report.platform}, ${report.cpus} CPU cores`);
  const table = new Table({ head: ['backend', 'loads', 'package', 'details'], style: { head: [], border: [], compact: true } });
  for (const b of report.backends) {
    const details = b.info ? [b.info.gpu ? 'GPU' : b.info.adapter ? 'CPU (software adapter; auto skips it)' : 'CPU', b.info.simd ? 'SIMD' : '', b.info.threads ? `${b.info.threads} thread(s)` : ''].filter(Boolean).join(', ') : (b.error ?? '');
    table.push([b.name, b.loads ? 'yes' : 'no', b.info ? `${b.info.package} ${b.info.version}` : '', details]);
  }
  out.log(table.toString());
  out.log(report.auto ? `--device auto uses: ${report.auto}` : 'no backend loads: reinstall with npm ci');
  const gpu = report.gpu;
  out.log('\nGPU path (@tensorflow/tfjs-node-gpu 4.22: CUDA 11.2, cuDNN 8.1):');
  out.log(`  nvidia-smi: ${gpu.nvidiaSmi.found ? gpu.nvidiaSmi.gpus.join('; ') : gpu.nvidiaSmi.error}`);
  out.log(`  @tensorflow/tfjs-node-gpu: ${gpu.packageInstalled ? 'installed' : 'not installed'}`);
  for (const lib of gpu.libraries) out.log(`  ${lib.name} (${lib.role}): ${lib.path ?? 'not found'}`);
  if (gpu.problems.length === 0) out.log('  no problems found: mtl train --device gpu should run on the GPU');
  else {
    out.log('  to train on the GPU:');
    for (const p of gpu.problems) out.log(`  - ${p.problem}\n    fix: ${p.fix}`);
    out.log('  (or build the Dockerfile in this repository: CUDA 11.2 + cuDNN 8 + Node 20)');
  }
  out.log('\nWebGPU path (@tensorflow/tfjs-backend-webgpu 4.22 on Dawn, the webgpu package; any Vulkan, Metal or D3D12 driver):');
  const a = report.webgpu.adapter;
  if (!a) {
    out.log(`  no adapter: ${report.webgpu.error}`);
    out.log('  fix: install the GPU vendor\'s Vulkan driver (NVIDIA\'s driver ships one; AMD/Intel: mesa-vulkan-drivers); check with vulkaninfo --summary');
  } else {
    out.log(`  adapter: ${a.vendor || '?'} ${a.architecture ? `(${a.architecture}) ` : ''}${a.device}${a.software ? ' - a software adapter (CPU): --device auto and gpu skip it, --backend webgpu uses it' : ''}`);
    out.log(`  driver: ${a.description || 'not reported'}`);
    const mib = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;
    const l = a.limits;
    out.log(`  limits: buffer ${mib(l.maxBufferSize ?? 0)}, storage binding ${mib(l.maxStorageBufferBindingSize ?? 0)}, workgroup storage ${l.maxComputeWorkgroupStorageSize ?? '?'} B, ${l.maxComputeInvocationsPerWorkgroup ?? '?'} invocations/workgroup, ${l.maxStorageBuffersPerShaderStage ?? '?'} storage buffers/stage`);
    out.log(`  features: ${a.features.filter((f) => ['shader-f16', 'subgroups', 'timestamp-query'].includes(f)).join(', ') || 'none of shader-f16, subgroups, timestamp-query'}`);
  }
  return report;
}

export function registerDoctor(program: Command, out: Output): void {
  program
    .command('doctor')
    .description('list the engines that load here and check the GPU setup')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      doctorCommand(opts, out);
    });
}

/** Whether nvidia-smi exists at all (for tests and quick checks). */
export function hasNvidiaSmi(): boolean {
  try {
    execFileSync('nvidia-smi', ['-L'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
