/**
 * Threads inside one kernel: worker threads that run mtl's generated kernels on the
 * tfjs wasm heap itself, which is a shared memory when the backend starts with
 * kernel threads (src/backends: the threaded tfjs build). A kernel splits its work
 * into one part per thread (most by images of the batch, `batchShares`); `run` hands
 * parts 1.. to the workers, runs part 0 here, and returns when all are done. One
 * model, one copy of its weights and optimizer state, every core on each convolution.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { compiledKernel } from './simd/cache';
import { WasmMemory } from './simd/webassembly';

/** One call of a generated kernel's export. */
export interface KernelCall {
  /** The kernel's cache key (as for kernelModule). */
  key: string;
  generate: () => Uint8Array;
  fn: string;
  args: number[];
}

/** What the main thread posts to a worker. */
export interface KernelJob {
  calls: { key: string; module?: object; fn: string; args: number[] }[];
}

/** Slots of the control array the workers and the main thread share. */
export const CONTROL = { done: 0, failed: 1 } as const;
/** Bytes of the first failure's message, as UTF-8. */
export const ERROR_BYTES = 4096;

export interface KernelWorkerData {
  memory: WasmMemory;
  control: SharedArrayBuffer;
  error: SharedArrayBuffer;
}

export class KernelPool {
  private readonly workers: Worker[] = [];
  /** Keys each worker has compiled. */
  private readonly known: Set<string>[] = [];
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  private readonly error = new SharedArrayBuffer(ERROR_BYTES);
  private dispatched = 0;

  constructor(private readonly memory: WasmMemory, readonly threads: number) {
    const workerData: KernelWorkerData = { memory, control: this.control.buffer as SharedArrayBuffer, error: this.error };
    for (let i = 1; i < threads; i++) {
      const worker = new Worker(join(__dirname, 'kernel-worker.js'), { workerData });
      worker.unref();
      this.workers.push(worker);
      this.known.push(new Set());
    }
  }

  /** Runs parts[0] on this thread and parts[i] on worker i-1 at once; returns when all have finished. */
  run(parts: KernelCall[][]): void {
    if (parts.length > this.threads) throw new Error(`${parts.length} kernel parts for ${this.threads} threads`);
    for (let i = 1; i < parts.length; i++) {
      const known = this.known[i - 1];
      const calls = parts[i].map((c) => {
        const call: KernelJob['calls'][number] = { key: c.key, fn: c.fn, args: c.args };
        if (!known.has(c.key)) {
          call.module = compiledKernel(this.memory, c.key, c.generate).module;
          known.add(c.key);
        }
        return call;
      });
      this.workers[i - 1].postMessage({ calls } satisfies KernelJob);
    }
    const target = this.dispatched + parts.length - 1;
    this.dispatched = target;
    for (const c of parts[0] ?? []) compiledKernel(this.memory, c.key, c.generate).exports[c.fn](...c.args);
    for (let done = Atomics.load(this.control, CONTROL.done); done < target; done = Atomics.load(this.control, CONTROL.done)) {
      Atomics.wait(this.control, CONTROL.done, done);
    }
    if (Atomics.load(this.control, CONTROL.failed) !== 0) {
      const bytes = new Uint8Array(this.error);
      const end = bytes.indexOf(0);
      throw new Error(`a kernel thread failed: ${Buffer.from(bytes.slice(0, end < 0 ? ERROR_BYTES : end)).toString('utf8')}`);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Images [start, start + count) of each thread's share of a batch, as even as whole images allow; no empty shares. */
export function batchShares(batch: number, threads: number): { start: number; count: number }[] {
  const parts = Math.max(1, Math.min(threads, batch));
  const shares: { start: number; count: number }[] = [];
  for (let i = 0, start = 0; i < parts; i++) {
    const count = Math.floor(batch / parts) + (i < batch % parts ? 1 : 0);
    shares.push({ start, count });
    start += count;
  }
  return shares;
}

const pools = new WeakMap<WasmMemory, KernelPool>();

/** Starts `threads` kernel threads over a shared wasm heap. */
export function startKernelPool(memory: WasmMemory, threads: number): KernelPool {
  const pool = new KernelPool(memory, threads);
  pools.set(memory, pool);
  return pool;
}

/** The kernel threads over this heap, if the backend started with them. */
export function kernelPool(memory: WasmMemory): KernelPool | undefined {
  return pools.get(memory);
}
