/**
 * The WebGPU engine: @tensorflow/tfjs-backend-webgpu 4.22 on Dawn, which the `webgpu`
 * npm package ships prebuilt for Node (an optional dependency: nothing is downloaded
 * at install beyond the npm registry). Dawn runs on Vulkan (Linux), Metal (macOS) or
 * D3D12 (Windows); a software Vulkan driver (Mesa's lavapipe) gives a CPU adapter that
 * CI uses, and `--device auto` skips.
 *
 * Two things tfjs-backend-webgpu 4.22 does not do in Node are done here:
 * - it registers itself only where `navigator.gpu` exists (a browser): mtl asks Dawn
 *   for the adapter and registers the backend with the device it opened;
 * - its readSync (dataSync) reads through an OffscreenCanvas, which Node lacks. mtl's
 *   step reads losses synchronously (the NaN guard, gradient methods), so readSync is
 *   replaced by a copy to a mappable buffer that is mapped synchronously: Dawn's Node
 *   binding drives its events by scheduling `setImmediate` callbacks, and the read
 *   runs those callbacks itself until the buffer is mapped (see `mapSync`).
 *
 * Only src/backends loads engines; this module is imported lazily by index.ts.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

/** What Dawn says about its adapter (mtl doctor, meta.json). */
export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  /** A CPU implementation (lavapipe/llvmpipe, SwiftShader, or Dawn's fallback adapter). */
  software: boolean;
  /** The limits that bound mtl's models. */
  limits: Record<string, number>;
  features: string[];
}

/** The subset of the WebGPU API used here (the `webgpu` package's types stay out of the build: it is optional). */
interface GpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuAdapter {
  info?: GpuAdapterInfo;
  isFallbackAdapter?: boolean;
  features: Set<string>;
  limits: Record<string, number>;
  requestDevice(descriptor: object): Promise<GpuDevice>;
}
interface GpuDevice {
  lost: Promise<{ message: string }>;
  onuncapturederror: ((event: { error: { message: string } }) => void) | null;
}
interface GpuBuffer {
  size: number;
  mapState: string;
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}
interface DawnModule {
  create(flags: string[]): { requestAdapter(options?: object): Promise<GpuAdapter | null> };
  globals: Record<string, unknown>;
}

const LIMIT_NAMES = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
];

/** The same limits tfjs-backend-webgpu's own (browser) factory asks for. */
const REQUIRED_LIMITS = [
  // Beyond tfjs's list: its Concat and AddN bind one storage buffer per input.
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
];

export const DAWN_PACKAGE = 'webgpu';
export const WEBGPU_PACKAGE = '@tensorflow/tfjs-backend-webgpu';

let dawn: DawnModule | undefined;
let adapterPromise: Promise<{ gpu: object; adapter: GpuAdapter; report: AdapterReport }> | undefined;

async function loadDawn(): Promise<DawnModule> {
  if (dawn) return dawn;
  const specifier: string = DAWN_PACKAGE;
  try {
    // The package is ES modules only; a variable specifier keeps it out of type checking (it is optional).
    dawn = (await import(specifier)) as DawnModule;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new Error(`${DAWN_PACKAGE} (Dawn for Node) is not installed`);
    }
    throw new Error(`${DAWN_PACKAGE} (Dawn for Node) failed to load: ${firstLine(e)}`);
  }
  return dawn;
}

/** Whether an adapter is a CPU implementation rather than a GPU. */
export function isSoftwareAdapter(info: Pick<AdapterReport, 'vendor' | 'architecture' | 'device' | 'description' | 'isFallbackAdapter'>): boolean {
  if (info.isFallbackAdapter) return true;
  const device = info.device.toLowerCase();
  const text = `${device} ${info.description} ${info.architecture}`.toLowerCase();
  if (info.vendor.toLowerCase() === 'mesa' && (device.startsWith('llvmpipe') || info.architecture.toLowerCase() === 'software')) return true;
  return /llvmpipe|lavapipe|swiftshader|software rasterizer|microsoft basic render/.test(text);
}

function describeAdapter(adapter: GpuAdapter): AdapterReport {
  const info = adapter.info ?? {};
  const base = {
    vendor: String(info.vendor ?? ''),
    architecture: String(info.architecture ?? ''),
    device: String(info.device ?? ''),
    description: String(info.description ?? ''),
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false),
  };
  const limits: Record<string, number> = {};
  for (const name of LIMIT_NAMES) {
    const value = adapter.limits[name];
    if (typeof value === 'number') limits[name] = value;
  }
  return { ...base, software: isSoftwareAdapter(base), limits, features: [...adapter.features].sort() };
}

/**
 * Where the Vulkan loader looks for driver manifests (ICD files), or the ones the
 * environment names. Without any, Dawn cannot find an adapter on Linux, and asking it
 * anyway prints Vulkan warnings on every run of a machine without a GPU.
 */
export function vulkanDriverManifests(env: NodeJS.ProcessEnv = process.env): string[] {
  const named = (env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES ?? '').split(':').filter(Boolean);
  if (named.length) return named.filter((f) => existsSync(f));
  const dataDirs = [env.XDG_DATA_HOME ?? (env.HOME ? path.join(env.HOME, '.local/share') : ''), ...(env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':')];
  const dirs = [...(env.XDG_CONFIG_DIRS ?? '/etc/xdg').split(':'), '/etc', ...dataDirs].filter(Boolean).map((d) => path.join(d, 'vulkan', 'icd.d'));
  return dirs.flatMap((d) => {
    try {
      return readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => path.join(d, f));
    } catch {
      return [];
    }
  });
}

/** Dawn's preferred adapter (high-performance), once per process; rejects with why there is none. */
export function requestAdapter(): Promise<{ gpu: object; adapter: GpuAdapter; report: AdapterReport }> {
  adapterPromise ??= (async () => {
    if (process.platform === 'linux' && vulkanDriverManifests().length === 0) {
      throw new Error('no Vulkan driver is installed, no ICD manifest in /usr/share/vulkan/icd.d or the Vulkan loader\'s other folders');
    }
    const module = await loadDawn();
    // Before the instance exists, so that every event callback Dawn schedules is seen.
    installEventHook();
    const gpu = module.create([]);
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) {
      throw new Error(
        process.platform === 'linux'
          ? 'Dawn found no WebGPU adapter: no usable Vulkan driver, or a Mesa older than 23'
          : 'Dawn found no WebGPU adapter',
      );
    }
    return { gpu, adapter, report: describeAdapter(adapter) };
  })();
  return adapterPromise;
}

/** The adapter, or why there is none (mtl doctor). */
export async function adapterReport(): Promise<{ report?: AdapterReport; error?: string }> {
  try {
    return { report: (await requestAdapter()).report };
  } catch (e) {
    return { error: firstLine(e) };
  }
}

/** One line: `vendor (architecture): description`, e.g. `mesa (software): llvmpipe: Mesa 25.0.7 (LLVM 15.0.6) 0.0.1`. */
export function adapterSummary(report: AdapterReport): string {
  const name = report.description || report.device || 'unknown device';
  const vendor = report.vendor || 'unknown vendor';
  return `${vendor}${report.architecture ? ` (${report.architecture})` : ''}: ${name}${report.software && report.architecture !== 'software' ? ', software' : ''}`;
}

let registered: AdapterReport | undefined;
let uncaptured: string | undefined;

/**
 * Opens a device on Dawn's adapter and makes 'webgpu' tfjs's backend. With
 * `allowSoftware` false a CPU adapter is refused before anything is registered.
 */
export async function initWebGpu(options: { allowSoftware: boolean }): Promise<AdapterReport> {
  const { gpu, adapter, report } = await requestAdapter();
  if (report.software && !options.allowSoftware) {
    throw new Error(`the only WebGPU adapter is a software one (${adapterSummary(report)}), which runs on the CPU`);
  }
  if (!registered) {
    const module = await loadDawn();
    // tfjs-backend-webgpu reads GPUBufferUsage, GPUMapMode, GPUShaderStage, ... as globals.
    for (const [name, value] of Object.entries(module.globals)) {
      if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
    }
    const requiredLimits: Record<string, number> = {};
    for (const name of REQUIRED_LIMITS) if (typeof adapter.limits[name] === 'number') requiredLimits[name] = adapter.limits[name];
    const requiredFeatures = ['timestamp-query'].filter((f) => adapter.features.has(f));
    const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
    device.onuncapturederror = (event) => {
      uncaptured ??= event.error.message;
    };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require(WEBGPU_PACKAGE) as { WebGPUBackend: new (device: unknown, info?: unknown) => tf.KernelBackend };
    patchReadSync(pkg.WebGPUBackend.prototype as unknown as WebGpuBackendLike);
    // Its constructor checks navigator.gpu (set after the require, so that the package does not register its own factory).
    const nav = ((globalThis as { navigator?: Record<string, unknown> }).navigator ??= {});
    if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
    const info = adapter.info;
    tf.registerBackend('webgpu', () => new pkg.WebGPUBackend(device, info), 3);
    registered = report;
  }
  if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend failed to initialize');
  await tf.ready();
  return report;
}

/** The first WebGPU validation error Dawn reported on the device (tests). */
export function firstUncapturedError(): string | undefined {
  return uncaptured;
}

// ---- synchronous reads --------------------------------------------------------------

interface WebGpuTensorData {
  values: unknown;
  dtype: tf.DataType;
  resource?: GpuBuffer | unknown;
  complexTensorInfos?: unknown;
}
interface WebGpuBackendLike {
  tensorMap: { get(dataId: object): WebGpuTensorData };
  readSync(dataId: object): unknown;
  bufferManager: { acquireBuffer(size: number, usage: number): GpuBuffer; releaseBuffer(buffer: GpuBuffer): void };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  commandEncoder: { copyBufferToBuffer(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, size: number): void };
  submitQueue(): void;
  convertAndCacheOnCPU(dataId: object, values: unknown): unknown;
}

type Immediate = (...args: unknown[]) => void;
const realSetImmediate = globalThis.setImmediate;
/** Dawn's pending event callbacks (scheduled with the real setImmediate, not yet run). */
const pendingDawn = new Set<{ fn: Immediate; handle: NodeJS.Immediate }>();
let capturing: Immediate[] | undefined;
let hooked = false;

function isNative(fn: unknown): fn is Immediate {
  return typeof fn === 'function' && Function.prototype.toString.call(fn).includes('[native code]');
}

/**
 * Dawn's Node binding processes its events (a mapped buffer, a finished queue) in a
 * callback that it schedules with the global `setImmediate`, looked up at each call.
 * The hook tracks those callbacks (native functions; JavaScript's own go through
 * untouched) so that `mapSync` can run them on the spot.
 */
function installEventHook(): void {
  if (hooked) return;
  hooked = true;
  const hook = function (this: unknown, fn: unknown, ...args: unknown[]) {
    if (isNative(fn)) {
      if (capturing) {
        capturing.push(fn);
        return undefined;
      }
      const entry = { fn, handle: undefined as unknown as NodeJS.Immediate };
      entry.handle = realSetImmediate(() => {
        pendingDawn.delete(entry);
        fn();
      });
      pendingDawn.add(entry);
      return entry.handle;
    }
    return (realSetImmediate as unknown as (...a: unknown[]) => NodeJS.Immediate)(fn, ...args);
  };
  // util.promisify(setImmediate) and the like keep working.
  for (const key of Object.getOwnPropertySymbols(realSetImmediate)) {
    (hook as unknown as Record<symbol, unknown>)[key] = (realSetImmediate as unknown as Record<symbol, unknown>)[key];
  }
  globalThis.setImmediate = hook as unknown as typeof setImmediate;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Maps `buffer` for reading without returning to the event loop. */
export function mapSync(buffer: GpuBuffer, mode: number): void {
  const queue: Immediate[] = [];
  for (const entry of pendingDawn) {
    clearImmediate(entry.handle);
    queue.push(entry.fn);
  }
  pendingDawn.clear();
  capturing = queue;
  let spins = 0;
  try {
    buffer.mapAsync(mode).catch(() => undefined);
    while (buffer.mapState !== 'mapped') {
      const run = queue.splice(0);
      if (run.length === 0) throw new Error('webgpu: Dawn scheduled no event processing; a synchronous read is not possible with this version of the webgpu package');
      for (const fn of run) fn();
      if (buffer.mapState === 'mapped') break;
      // The GPU is still working: back off (on a software adapter it shares these CPU cores).
      if (++spins > 8) Atomics.wait(sleeper, 0, 0, Math.min(1, 0.01 * spins));
    }
  } finally {
    capturing = undefined;
    // Whatever Dawn scheduled meanwhile goes back to the event loop.
    for (const fn of queue.splice(0)) globalThis.setImmediate(fn);
  }
}

function patchReadSync(proto: WebGpuBackendLike): void {
  const stock = proto.readSync;
  proto.readSync = function (this: WebGpuBackendLike, dataId: object) {
    const data = this.tensorMap.get(dataId);
    if (data.values != null || data.dtype === 'string' || data.dtype === 'complex64') return stock.call(this, dataId);
    const resource = data.resource as GpuBuffer | undefined;
    if (!resource || typeof (resource as GpuBuffer).size !== 'number') return stock.call(this, dataId);
    const usage = globalThis as unknown as { GPUBufferUsage: Record<string, number>; GPUMapMode: Record<string, number> };
    const size = resource.size;
    const staging = this.bufferManager.acquireBuffer(size, usage.GPUBufferUsage.COPY_DST | usage.GPUBufferUsage.MAP_READ);
    this.ensureCommandEncoderReady();
    this.endComputePassEncoder();
    this.commandEncoder.copyBufferToBuffer(resource, 0, staging, 0, size);
    this.submitQueue();
    mapSync(staging, usage.GPUMapMode.READ);
    // Dawn delivers validation errors while it processes events; a failed shader would otherwise read as zeros.
    if (uncaptured) {
      staging.unmap();
      this.bufferManager.releaseBuffer(staging);
      throw new Error(`webgpu: the device reported an error: ${uncaptured.split('\n')[0]}`);
    }
    const bytes = staging.getMappedRange().slice(0);
    staging.unmap();
    this.bufferManager.releaseBuffer(staging);
    return this.convertAndCacheOnCPU(dataId, tf.util.convertBackendValuesAndArrayBuffer(bytes, data.dtype));
  };
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}
