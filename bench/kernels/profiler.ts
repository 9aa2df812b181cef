/**
 * Per-kernel wall-clock profiler: wraps every kernel registered for a backend
 * and accumulates exclusive milliseconds (time in nested kernel calls is charged
 * to the inner kernel) and call counts per kernel name.
 */
import { getKernelsForBackend, KernelConfig, KernelFunc, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';

export interface KernelStat {
  name: string;
  ms: number;
  calls: number;
}

export class KernelProfiler {
  private readonly stats = new Map<string, KernelStat>();
  private readonly originals: KernelConfig[] = [];
  private readonly childMs: number[] = [];

  /** Wraps all kernels currently registered for `backendName`. */
  constructor(private readonly backendName: string) {
    for (const config of getKernelsForBackend(backendName)) {
      this.originals.push(config);
      unregisterKernel(config.kernelName, backendName);
      registerKernel({ ...config, kernelFunc: this.wrap(config.kernelName, config.kernelFunc) });
    }
  }

  private wrap(name: string, fn: KernelFunc): KernelFunc {
    return (args) => {
      this.childMs.push(0);
      const t0 = performance.now();
      try {
        return fn(args);
      } finally {
        const total = performance.now() - t0;
        const inner = this.childMs.pop() ?? 0;
        if (this.childMs.length > 0) this.childMs[this.childMs.length - 1] += total;
        const s = this.stats.get(name) ?? { name, ms: 0, calls: 0 };
        s.ms += total - inner;
        s.calls++;
        this.stats.set(name, s);
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
