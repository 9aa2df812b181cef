/**
 * Synchronization between the replicas of a data-parallel run, over one
 * SharedArrayBuffer: a barrier, a sum-all-reduce whose order of addition is fixed
 * (rank 0, 1, ...) so results do not depend on timing, and a command channel from
 * rank 0 (the main thread) to the workers. Waits time out regularly to notice when
 * another thread has failed.
 */

const COUNT = 0;
const GENERATION = 1;
const COMMAND_SEQ = 2;
const COMMAND = 3;
const ABORT = 4;
const CONTROL_INTS = 8;

export const Command = { stop: 0, step: 1 } as const;

export class CollectiveAborted extends Error {
  constructor() {
    super('another training thread failed');
  }
}

export class Collective {
  private readonly control: Int32Array;
  private readonly slots: Float32Array;
  private parity = 0;
  private seenCommands = 0;

  /** Shared memory for `size` ranks exchanging up to `length` floats. */
  static allocate(size: number, length: number): SharedArrayBuffer {
    return new SharedArrayBuffer(CONTROL_INTS * 4 + 2 * size * length * 4);
  }

  constructor(
    buffer: SharedArrayBuffer,
    readonly rank: number,
    readonly size: number,
    readonly length: number,
  ) {
    this.control = new Int32Array(buffer, 0, CONTROL_INTS);
    this.slots = new Float32Array(buffer, CONTROL_INTS * 4, 2 * size * length);
  }

  /** Every rank gets Σ_r values_r, added in rank order. Double-buffered, so one barrier per call suffices. */
  allReduceSum(values: Float32Array): Float32Array {
    const base = this.parity * this.size * this.length;
    this.parity ^= 1;
    this.slots.set(values, base + this.rank * this.length);
    this.barrier();
    const n = values.length;
    const slot = (r: number) => this.slots.subarray(base + r * this.length, base + r * this.length + n);
    const sum = slot(0).slice();
    for (let r = 1; r < this.size; r++) {
      const part = slot(r);
      for (let i = 0; i < n; i++) sum[i] += part[i];
    }
    return sum;
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
