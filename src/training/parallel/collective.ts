/**
 * Synchronization between the replicas of a data-parallel run, over one
 * SharedArrayBuffer: a barrier, a sum-all-reduce whose order of addition is fixed
 * (rank 0, 1, ...) so results do not depend on timing, and a command channel from
 * rank 0 (the main thread) to the workers. Waits time out regularly to notice when
 * another thread has failed.
 *
 * The all-reduce is a reduce-scatter then an all-gather in shared memory: every rank
 * writes its values into its own slot, sums one 1/size chunk of all slots into the
 * shared result, and after a second barrier every rank reads the whole result. The memory
 * is a shared WebAssembly.Memory, so the sums run as SIMD loops (wasm/simd/scaled-sum.ts),
 * each rank's values multiplied by its share of the batch where the caller asks.
 */
import { scaledSum, type ScaledSum } from '../../backends/kernels/wasm/simd/scaled-sum';
import { WA, type WasmMemory } from '../../backends/kernels/wasm/simd/webassembly';

const COUNT = 0;
const GENERATION = 1;
const COMMAND_SEQ = 2;
const COMMAND = 3;
const ABORT = 4;
const CONTROL_INTS = 8;
const PAGE_BYTES = 65536;

/** Bytes before the slots: the control ints, then a share per rank, rounded up to 16 bytes (SIMD rows). */
const headerBytes = (size: number) => Math.ceil((4 * (CONTROL_INTS + size)) / 16) * 16;

/** A run of the floats reduced whose values each rank multiplies by its share (`setShare`) in the sum. */
export interface ShareRun {
  offset: number;
  n: number;
}

export const Command = { stop: 0, step: 1 } as const;

export class CollectiveAborted extends Error {
  constructor() {
    super('another thread failed (its error is printed on stderr)');
  }
}

export class Collective {
  private readonly control: Int32Array;
  private readonly shares: Float32Array;
  private readonly slots: Float32Array;
  private readonly result: Float32Array;
  private readonly sums: ScaledSum;
  private seenCommands = 0;

  /** Shared memory for `size` ranks exchanging up to `length` floats. */
  static allocate(size: number, length: number): WasmMemory {
    const pages = Math.ceil((headerBytes(size) + (size + 1) * length * 4) / PAGE_BYTES);
    return new WA.Memory({ initial: pages, maximum: pages, shared: true });
  }

  constructor(
    memory: WasmMemory,
    readonly rank: number,
    readonly size: number,
    readonly length: number,
  ) {
    const buffer = memory.buffer;
    this.control = new Int32Array(buffer, 0, CONTROL_INTS);
    this.shares = new Float32Array(buffer, 4 * CONTROL_INTS, size);
    this.slots = new Float32Array(buffer, headerBytes(size), size * length);
    this.result = new Float32Array(buffer, headerBytes(size) + size * length * 4, length);
    this.sums = scaledSum(memory);
  }

  /** This rank's share of the batch, by which `allReduceSum` multiplies its values in share runs. */
  setShare(share: number): void {
    this.shares[this.rank] = share;
  }

  /** This rank's slot: write the values to reduce here, then call `allReduceSum`. */
  ownSlot(n = this.length): Float32Array {
    return this.slots.subarray(this.rank * this.length, this.rank * this.length + n);
  }

  /**
   * Every rank gets Σ_r slot_r over the first n floats, added in rank order, each rank's
   * values multiplied by its share within `shareRuns` (in increasing order). The
   * returned view is valid until this rank's next call; no rank writes its slot for
   * the next call before every rank has finished summing this one (second barrier),
   * nor the result before every rank has read it (first barrier of the next call).
   */
  allReduceSum(n: number, shareRuns: ShareRun[] = []): Float32Array {
    this.barrier();
    const chunk = Math.ceil(n / this.size);
    const from = Math.min(n, this.rank * chunk);
    const to = Math.min(n, from + chunk);
    // This rank's range [from, to) as runs of one scale: 1 between the share runs.
    let at = from;
    for (const run of shareRuns) {
      const start = Math.max(from, run.offset);
      const end = Math.min(to, run.offset + run.n);
      if (start >= end) continue;
      this.sumRun(at, start, false);
      this.sumRun(start, end, true);
      at = end;
    }
    this.sumRun(at, to, false);
    this.barrier();
    return this.result.subarray(0, n);
  }

  private sumRun(start: number, end: number, byShare: boolean): void {
    if (start >= end) return;
    const floats = (array: Float32Array, offset: number) => array.byteOffset + 4 * offset;
    for (let r = 0; r < this.size; r++) {
      const scale = byShare ? this.shares[r] : 1;
      const sum = r === 0 ? this.sums.copyScaled : this.sums.addScaled;
      sum(floats(this.result, start), floats(this.slots, r * this.length + start), end - start, scale);
    }
  }

  barrier(): void {
    const generation = Atomics.load(this.control, GENERATION);
    if (Atomics.add(this.control, COUNT, 1) === this.size - 1) {
      Atomics.store(this.control, COUNT, 0);
      Atomics.add(this.control, GENERATION, 1);
      Atomics.notify(this.control, GENERATION);
      return;
    }
    while (Atomics.load(this.control, GENERATION) === generation) {
      Atomics.wait(this.control, GENERATION, generation, 200);
      this.checkAbort();
    }
  }

  /** Rank 0: tell the workers what to do next. */
  send(command: number): void {
    Atomics.store(this.control, COMMAND, command);
    Atomics.add(this.control, COMMAND_SEQ, 1);
    Atomics.notify(this.control, COMMAND_SEQ);
  }

  /** Workers: the next command from rank 0. */
  receive(): number {
    for (;;) {
      const seq = Atomics.load(this.control, COMMAND_SEQ);
      if (seq > this.seenCommands) {
        this.seenCommands++;
        return Atomics.load(this.control, COMMAND);
      }
      Atomics.wait(this.control, COMMAND_SEQ, seq, 200);
      this.checkAbort();
    }
  }

  abort(): void {
    Atomics.store(this.control, ABORT, 1);
    Atomics.notify(this.control, GENERATION);
    Atomics.notify(this.control, COMMAND_SEQ);
  }

  private checkAbort(): void {
    if (Atomics.load(this.control, ABORT)) throw new CollectiveAborted();
  }
}
