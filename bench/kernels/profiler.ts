/**
 * Per-kernel wall-clock profiler: wraps every kernel registered for a backend
 * and accumulates exclusive milliseconds (time in nested kernel calls is charged
 * to the inner kernel) and call counts per kernel name. With `shapes`, the
 * convolution kernels are keyed by layer shape (filter, stride, input size) and
 * reductions and elementwise kernels by rank, axes and size; with `clock: 'cpu'`
 * the time charged is the process's CPU time (user + system), which a loaded
 * machine disturbs less than wall time.
 */
import { getKernelsForBackend, KernelConfig, KernelFunc, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';

export interface KernelStat {
  name: string;
  ms: number;
  calls: number;
}

export interface ProfilerOptions {
  shapes?: boolean;
  clock?: 'wall' | 'cpu';
}

const CONV_KERNELS = new Set(['Conv2D', 'FusedConv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPool', 'MaxPoolGrad']);
const SIZED_KERNELS = new Set(['Sum', 'Mean', 'Square', 'Multiply', 'Add', 'Sub', 'Relu', 'Step', 'MtlAdam', 'MtlReluGrad', 'MtlBatchNormTrain', 'MtlBatchNormTrainGrad']);

/** "Sum 4-D all axes >=1M" and the like: what a reduction or elementwise kernel ran on. */
function sizeKey(name: string, args: Parameters<KernelFunc>[0]): string {
  const first = Object.values(args.inputs as Record<string, { shape: number[] } | undefined>)[0];
  if (!first) return name;
  const size = first.shape.reduce((a, b) => a * b, 1);
  const bucket = size >= 1e6 ? '>=1M' : size >= 1e5 ? '>=100k' : size >= 1e4 ? '>=10k' : '<10k';
  const axis = (args.attrs as { axis?: number | number[] } | undefined)?.axis;
  const axes = axis === undefined ? '' : Array.isArray(axis) && axis.length === first.shape.length ? ' all axes' : ` axes ${String(axis)}`;
  return `${name} ${first.shape.length}-D${axes} ${bucket}`;
}

/** "Conv2DBackpropInput 1x1/2 256->512 @16" and the like. */
function shapeKey(name: string, args: Parameters<KernelFunc>[0]): string {
  if (SIZED_KERNELS.has(name)) return sizeKey(name, args);
  const inputs = args.inputs as Record<string, { shape: number[] } | undefined>;
  const attrs = (args.attrs ?? {}) as Record<string, unknown>;
  const strides = attrs.strides as number | number[] | undefined;
  const s = Array.isArray(strides) ? strides[0] : strides ?? 1;
  let x: number[] | undefined;
  let f: number[] | undefined;
  if (name === 'Conv2DBackpropInput') {
    x = attrs.inputShape as number[];
    f = inputs.filter?.shape;
  } else if (name === 'Conv2DBackpropFilter') {
    x = inputs.x?.shape;
    f = attrs.filterShape as number[];
  } else if (name === 'MaxPool' || name === 'MaxPoolGrad') {
    x = inputs.x?.shape;
    const size = attrs.filterSize as number | number[];
    const k = Array.isArray(size) ? size[0] : size;
    return x ? `${name} ${k}x${k}/${s} @${x[1]} c${x[3]}` : name;
  } else {
    x = inputs.x?.shape;
    f = inputs.filter?.shape;
  }
  if (!x || !f) return name;
  const act = name === 'FusedConv2D' ? ` ${String(attrs.activation ?? 'linear')}` : '';
  return `${name} ${f[0]}x${f[1]}/${s} ${f[2]}->${f[3]} @${x[1]}${act}`;
}

export class KernelProfiler {
  private readonly stats = new Map<string, KernelStat>();
  private readonly originals: KernelConfig[] = [];
  private readonly childMs: number[] = [];

  /** Wraps all kernels currently registered for `backendName`. */
  private readonly now: () => number;

  constructor(private readonly backendName: string, private readonly options: ProfilerOptions = {}) {
    this.now = options.clock === 'cpu'
      ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; }
      : () => performance.now();
    for (const config of getKernelsForBackend(backendName)) {
      this.originals.push(config);
      unregisterKernel(config.kernelName, backendName);
      registerKernel({ ...config, kernelFunc: this.wrap(config.kernelName, config.kernelFunc) });
    }
  }

  private wrap(name: string, fn: KernelFunc): KernelFunc {
    return (args) => {
      this.childMs.push(0);
      const key = this.options.shapes && (CONV_KERNELS.has(name) || SIZED_KERNELS.has(name)) ? shapeKey(name, args) : name;
      const t0 = this.now();
      try {
        return fn(args);
      } finally {
        const total = this.now() - t0;
        const inner = this.childMs.pop() ?? 0;
        if (this.childMs.length > 0) this.childMs[this.childMs.length - 1] += total;
        const s = this.stats.get(key) ?? { name: key, ms: 0, calls: 0 };
        s.ms += total - inner;
        s.calls++;
        this.stats.set(key, s);
      }
    };
  }

  reset(): void {
    this.stats.clear();
  }

  /** Stats sorted by time, largest first. */
  top(): KernelStat[] {
    return [...this.stats.values()].sort((a, b) => b.ms - a.ms);
  }

  /** Puts the unwrapped kernels back. */
  restore(): void {
    for (const config of this.originals) {
      unregisterKernel(config.kernelName, this.backendName);
      registerKernel(config);
    }
  }
}
