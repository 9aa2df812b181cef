/**
 * Threads inside one kernel: worker threads that run mtl's generated kernels on the
 * tfjs wasm heap itself, which is a shared memory when the backend starts with
 * kernel threads (src/backends: the threaded tfjs build). A kernel splits its work
 * into one part per thread (most by images of the batch, `evenShares`); `run` hands
 * parts 1.. to the workers, runs part 0 here, and returns when all are done. One
 * model, one copy of its weights and optimizer state, every core on each convolution.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { compiledKernel, kernelModule } from './simd/cache';
import { WasmMemory } from './simd/webassembly';

/** One call of a generated kernel's export. */
export interface KernelCall {
  /** The kernel's cache key (as for kernelModule). */
  key: string;
  generate: () => Uint8Array;
  fn: string;
  args: number[];
}

/** A kernel export a worker learns once, through its port: `module` compiled for the shared heap. */
export interface KernelDefinition {
  id: number;
  key: string;
  fn: string;
  module: object;
}

/**
 * The shared words: FAILED and DONE, then per worker its job SEQ number. A job is
 * written to the worker's area of the job array (f64: call count, then per call its
 * definition id, argument count and arguments) before its SEQ is bumped.
 */
export const CONTROL = { failed: 0, done: 1, seq: 2 } as const;
/** Bytes of the first failure's message, as UTF-8. */
export const ERROR_BYTES = 4096;
/** Numbers in one worker's job area. */
export const JOB_WORDS = 1024;
/** How long an idle thread spins on its next job before it sleeps: kernels of a step come well within this of each other. */
export const SPIN_MS = 5;

export interface KernelWorkerData {
  memory: WasmMemory;
  control: SharedArrayBuffer;
  jobs: SharedArrayBuffer;
  error: SharedArrayBuffer;
  index: number;
  port: MessagePort;
}

/** Waits until control[slot] is no longer `value`: spinning SPIN_MS, then sleeping. Returns the new value. */
export function awaitChange(control: Int32Array, slot: number, value: number): number {
  const start = performance.now();
  for (let spins = 0; ; spins++) {
    const now = Atomics.load(control, slot);
    if (now !== value) return now;
    if ((spins & 1023) === 1023 && performance.now() - start > SPIN_MS) Atomics.wait(control, slot, value);
  }
}

export class KernelPool {
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  /** Definition ids each worker has been sent. */
  private readonly known: Set<number>[] = [];
  private readonly ids = new Map<string, number>();
  private readonly control: Int32Array;
  private readonly jobs: Float64Array;
  private readonly error = new SharedArrayBuffer(ERROR_BYTES);
  private dispatched = 0;

  /** Parts handed to the worker threads so far. */
  get handedOver(): number {
    return this.dispatched;
  }

  constructor(private readonly memory: WasmMemory, readonly threads: number) {
    this.control = new Int32Array(new SharedArrayBuffer(4 * (CONTROL.seq + threads)));
    this.jobs = new Float64Array(new SharedArrayBuffer(8 * JOB_WORDS * threads));
    // Loaded here, not at the top: the kernels that split their work (Adam, ...) also run in browsers, without threads.
    const { Worker: NodeWorker, MessageChannel } = require('node:worker_threads') as typeof import('node:worker_threads');
    const { join } = require('node:path') as typeof import('node:path');
    for (let index = 0; index < threads - 1; index++) {
      const { port1, port2 } = new MessageChannel();
      const workerData: KernelWorkerData = { memory, control: this.control.buffer as SharedArrayBuffer, jobs: this.jobs.buffer as SharedArrayBuffer, error: this.error, index, port: port2 };
      const worker = new NodeWorker(join(__dirname, 'kernel-worker.js'), { workerData, transferList: [port2] });
      worker.unref();
      port1.unref();
      this.workers.push(worker);
      this.ports.push(port1);
      this.known.push(new Set());
    }
  }

  /** Runs parts[0] on this thread and parts[i] on worker i-1 at once; returns when all have finished. */
  run(parts: KernelCall[][]): void {
    if (parts.length > this.threads) throw new Error(`${parts.length} kernel parts for ${this.threads} threads`);
    for (let i = 1; i < parts.length; i++) this.hand(i - 1, parts[i]);
    const target = this.dispatched + parts.length - 1;
    this.dispatched = target;
    for (const c of parts[0] ?? []) compiledKernel(this.memory, c.key, c.generate).exports[c.fn](...c.args);
    for (let done = Atomics.load(this.control, CONTROL.done); done < target;) done = awaitChange(this.control, CONTROL.done, done);
    if (Atomics.load(this.control, CONTROL.failed) !== 0) {
      const bytes = new Uint8Array(this.error);
      const end = bytes.indexOf(0);
      throw new Error(`a kernel thread failed: ${Buffer.from(bytes.slice(0, end < 0 ? ERROR_BYTES : end)).toString('utf8')}`);
    }
  }

  /** Writes a part into worker `index`'s job area (sending it what it has not compiled yet), then wakes it. */
  private hand(index: number, calls: KernelCall[]): void {
    const job = this.jobs.subarray(index * JOB_WORDS, (index + 1) * JOB_WORDS);
    let at = 0;
    job[at++] = calls.length;
    for (const c of calls) {
      const name = `${c.key}\u0000${c.fn}`;
      let id = this.ids.get(name);
      if (id === undefined) {
        id = this.ids.size;
        this.ids.set(name, id);
      }
      if (!this.known[index].has(id)) {
        const definition: KernelDefinition = { id, key: c.key, fn: c.fn, module: compiledKernel(this.memory, c.key, c.generate).module };
        this.ports[index].postMessage(definition);
        this.known[index].add(id);
      }
      if (at + 2 + c.args.length > JOB_WORDS) throw new Error(`a kernel part of ${calls.length} calls does not fit a job (${JOB_WORDS} numbers)`);
      job[at++] = id;
      job[at++] = c.args.length;
      for (const a of c.args) job[at++] = a;
    }
    Atomics.add(this.control, CONTROL.seq + index, 1);
    Atomics.notify(this.control, CONTROL.seq + index);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Each thread's share [start, start + count) of `total` items (images of a batch, channels, vectors), as even as whole items allow; no empty shares. */
export function evenShares(total: number, threads: number): { start: number; count: number }[] {
  const parts = Math.max(1, Math.min(threads, total));
  const shares: { start: number; count: number }[] = [];
  for (let i = 0, start = 0; i < parts; i++) {
    const count = Math.floor(total / parts) + (i < total % parts ? 1 : 0);
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

/** Threads a kernel on this heap splits its work over (1 without kernel threads). */
export function threadsOf(memory: WasmMemory): number {
  return kernelPool(memory)?.threads ?? 1;
}

/** Runs the parts on the kernel threads, or one after another here (a single part, without them). */
export function runParts(memory: WasmMemory, parts: KernelCall[][]): void {
  const pool = kernelPool(memory);
  if (pool !== undefined) {
    pool.run(parts);
    return;
  }
  for (const part of parts) for (const c of part) kernelModule(memory, c.key, c.generate)[c.fn](...c.args);
}

/** Floats a kernel thread takes at least in a row-wise or elementwise pass: below it, handing work over costs more than it saves. */
export const MIN_SHARE_FLOATS = 65536;

/**
 * One call per thread over [0, total) split evenly, for elementwise kernels; below
 * `minShare` items a thread (MIN_SHARE_FLOATS in the items' units), one call here.
 */
export function runSplit(memory: WasmMemory, total: number, minShare: number, call: (start: number, count: number) => KernelCall): void {
  const threads = Math.min(threadsOf(memory), Math.max(1, Math.floor(total / minShare)));
  runParts(memory, evenShares(total, threads).map((share) => [call(share.start, share.count)]));
}
