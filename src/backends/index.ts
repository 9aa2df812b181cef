/**
 * The only module that loads an engine package. Importing @tensorflow/tfjs-node(-gpu)
 * switches tfjs's global backend as a side effect, so nothing else may import them.
 *
 * Order for `auto`: tfjs-node-gpu (CUDA), webgpu (Dawn, a hardware adapter only),
 * tfjs-node (native CPU), wasm, plain JS cpu. `gpu`: tfjs-node-gpu, then webgpu on a
 * hardware adapter; never a CPU engine. The two native packages download libtensorflow
 * while installing, which fails offline; they are optional dependencies and simply
 * absent then. Dawn (the `webgpu` package) ships inside its npm package (optional too).
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients itself; the tfjs-layers bundle does, for every op.
import '@tensorflow/tfjs-layers';
import { UserError } from '../errors';
import { registerWasmTrainingKernels } from './kernels/wasm';
import { asWasm, wasmMemory } from './kernels/wasm/backend';
import { startKernelPool } from './kernels/wasm/kernel-pool';
import { startSharedHeapWasm } from './wasm-shared-heap';
export { hostValues, writableHostValues } from './kernels/host-arrays';
import { registerCpuTrainingKernels } from './kernels/cpu';
import { checkGpuEnvironment, gpuAdvice } from './gpu-check';
import { registerWebGpuTrainingKernels } from './kernels/webgpu';
import { adapterSummary, initWebGpu, WEBGPU_PACKAGE, type AdapterReport } from './webgpu';

export type BackendName = 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';
export type Device = 'auto' | 'gpu' | 'cpu';

export const backendNames: readonly BackendName[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  /** mtl's name for the engine. */
  name: BackendName;
  /** tfjs's own backend name (`tf.getBackend()`). */
  tfjsBackend: string;
  /** The npm package that provides it, and its version. */
  package: string;
  version: string;
  tfjsVersion: string;
  /** Whether computation runs on a GPU. */
  gpu: boolean;
  threads: number;
  /** wasm: threads splitting each convolution over one shared heap (kernels/wasm/kernel-pool.ts). */
  kernelThreads?: number;
  simd?: boolean;
  /** webgpu: the adapter Dawn opened. */
  adapter?: AdapterReport;
  /** Why this one was chosen (and what was tried before it). */
  reason: string;
  tried: { name: BackendName; error: string }[];
}

export interface BackendOptions {
  device: Device;
  /** Force one engine (tests, benchmarks); must fit `device`. */
  backend?: BackendName;
  threads?: number;
  /** wasm: start the threaded build (a shared heap) with this many kernel threads (1 or absent: the plain SIMD build). */
  kernelThreads?: number;
}

interface Loaded {
  gpu: boolean;
  threads: number;
  kernelThreads?: number;
  simd?: boolean;
  packageName: string;
  version: string;
  adapter?: AdapterReport;
}

const loaders: Record<BackendName, (options: BackendOptions) => Promise<Loaded>> = {
  'tensorflow-gpu': async () => {
    const pkg = '@tensorflow/tfjs-node-gpu';
    requireEngine(pkg);
    await tf.setBackend('tensorflow');
    return { gpu: usingGpu(), threads: 0, packageName: pkg, version: packageVersion(pkg) };
  },
  webgpu: async (options) => {
    requireEngine(WEBGPU_PACKAGE);
    // A software adapter (lavapipe) runs on the CPU: only when asked for by name, never for --device gpu or auto.
    const adapter = await initWebGpu({ allowSoftware: options.backend === 'webgpu' && options.device !== 'gpu' });
    registerWebGpuTrainingKernels();
    return { gpu: !adapter.software, threads: 0, packageName: WEBGPU_PACKAGE, version: packageVersion(WEBGPU_PACKAGE), adapter };
  },
  tensorflow: async () => {
    // Where tfjs-node-gpu already loaded but found no GPU, its libtensorflow runs on the CPU:
    // loading tfjs-node as well would register a second 'tensorflow' backend.
    const pkg = tf.findBackend('tensorflow') ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    requireEngine(pkg);
    await tf.setBackend('tensorflow');
    return { gpu: false, threads: 0, packageName: pkg, version: packageVersion(pkg) };
  },
  wasm: async (options) => {
    const pkg = '@tensorflow/tfjs-backend-wasm';
    requireEngine(pkg);
    const kernelThreads = options.kernelThreads ?? 1;
    if (kernelThreads > 1) {
      const wasmPackage = require(pkg) as { setThreadsCount(n: number): void };
      if (!(await startSharedHeapWasm(wasmPackage.setThreadsCount))) throw new Error('the threaded wasm backend failed to initialize');
      startKernelPool(wasmMemory(asWasm(tf.backend())), kernelThreads);
    } else {
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialize');
      await tf.ready();
    }
    registerWasmTrainingKernels();
    return {
      gpu: false,
      threads: 1,
      kernelThreads,
      simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
      packageName: pkg,
      version: packageVersion(pkg),
    };
  },
  cpu: async () => {
    const pkg = '@tensorflow/tfjs-backend-cpu';
    requireEngine(pkg);
    await tf.setBackend('cpu');
    registerCpuTrainingKernels();
    return { gpu: false, threads: 1, packageName: pkg, version: packageVersion(pkg) };
  },
};

const candidates: Record<Device, BackendName[]> = {
  auto: ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'],
  gpu: ['tensorflow-gpu', 'webgpu'],
  cpu: ['tensorflow', 'wasm', 'cpu'],
};

let active: BackendInfo | undefined;

/** Loads the engine once per process and says which one runs and why. */
export async function initBackend(options: BackendOptions): Promise<BackendInfo> {
  if (active) return active;
  if (options.backend && !candidates[options.device].includes(options.backend)) {
    throw new UserError(`--backend ${options.backend} does not fit --device ${options.device}`, {
      exitCode: 2,
      hint: `with --device ${options.device} choose one of ${candidates[options.device].join(', ')}`,
    });
  }
  const order = options.backend ? [options.backend] : candidates[options.device];
  const tried: BackendInfo['tried'] = [];
  for (const name of order) {
    try {
      const loaded = await loaders[name](options);
      if (name === 'tensorflow-gpu' && !loaded.gpu) {
        throw new Error('libtensorflow loaded but found no usable GPU (libcudart 11.2 / libcudnn 8.1 missing or no CUDA device)');
      }
      tf.enableProdMode();
      active = {
        name,
        tfjsBackend: tf.getBackend(),
        package: loaded.packageName,
        version: loaded.version,
        tfjsVersion: tf.version_core,
        gpu: loaded.gpu,
        threads: loaded.threads,
        kernelThreads: loaded.kernelThreads,
        simd: loaded.simd,
        adapter: loaded.adapter,
        reason: reasonFor(name, options, tried),
        tried,
      };
      return active;
    } catch (e) {
      tried.push({ name, error: firstLine(e) });
    }
  }
  if (options.device === 'gpu') {
    const advice = gpuAdvice(checkGpuEnvironment());
    throw new UserError(`--device gpu: no GPU backend could be loaded (${tried.map((t) => `${t.name}: ${t.error}`).join('; ')}); mtl does not fall back to the CPU when the GPU is asked for`, {
      hint: `${advice ? `what mtl doctor finds:\n${advice}\n` : ''}- WebGPU (Dawn) needs a hardware adapter: the GPU vendor's Vulkan driver (NVIDIA's driver ships one) or Metal/D3D12; a software one (lavapipe) runs only with --backend webgpu\nor train on the CPU with --device auto`,
      exitCode: 1,
    });
  }
  throw new UserError(`no tfjs backend could be loaded: ${tried.map((t) => `${t.name}: ${t.error}`).join('; ')}`, {
    hint: 'reinstall with npm ci; the wasm and cpu backends ship inside npm packages',
  });
}

/** The backend chosen by initBackend (undefined before). */
export function activeBackend(): BackendInfo | undefined {
  return active;
}

/** One line for the terminal: `backend: wasm (@tensorflow/tfjs-backend-wasm 4.22.0, SIMD, 1 thread) - <why>`. */
export function describeBackend(info: BackendInfo): string {
  const details = [`${info.package} ${info.version}`];
  if (info.adapter) details.push(adapterSummary(info.adapter));
  if (info.gpu) details.push('GPU');
  if (info.simd) details.push('SIMD');
  if (info.kernelThreads !== undefined && info.kernelThreads > 1) details.push(`shared heap, ${info.kernelThreads} kernel threads`);
  else if (info.threads > 0) details.push(`${info.threads} thread${info.threads === 1 ? '' : 's'}`);
  return `backend: ${info.name} (${details.join(', ')}) - ${info.reason}`;
}

function reasonFor(name: BackendName, options: BackendOptions, tried: BackendInfo['tried']): string {
  if (options.backend) return `chosen with --backend ${options.backend}`;
  const skipped = tried.map((t) => `${t.name} unavailable: ${t.error}`);
  const base = tried.length === 0 ? `${name} is the first choice for --device ${options.device}` : `${name} is the fastest engine that loads here`;
  return [base, ...skipped].join('; ');
}

function requireEngine(pkg: string): void {
  try {
    require(pkg);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'MODULE_NOT_FOUND' && String((e as Error).message).includes(pkg)) {
      throw new Error(`${pkg} is not installed`);
    }
    throw e;
  }
}

function packageVersion(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function usingGpu(): boolean {
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  return backend.isUsingGpuDevice === true;
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}
