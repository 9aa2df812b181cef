/**
 * Synchronization between the replicas of a data-parallel run, over one
 * SharedArrayBuffer: a barrier, a sum-all-reduce whose order of addition is fixed
 * (rank 0, 1, ...) so results do not depend on timing, and a command channel from
 * rank 0 (the main thread) to the workers. Waits time out regularly to notice when
 * another thread has failed.
 *
 * The all-reduce is a reduce-scatter then an all-gather in shared memory: every rank
 * writes its values into its own slot, sums one 1/size chunk of all slots into the
 * shared result, and after a second barrier every rank reads the whole result.
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
    super('another thread failed (its error is printed on stderr)');
  }
}

export class Collective {
  private readonly control: Int32Array;
  private readonly slots: Float32Array;
  private readonly result: Float32Array;
  private seenCommands = 0;

  /** Shared memory for `size` ranks exchanging up to `length` floats. */
  static allocate(size: number, length: number): SharedArrayBuffer {
    return new SharedArrayBuffer(CONTROL_INTS * 4 + (size + 1) * length * 4);
  }

  constructor(
    buffer: SharedArrayBuffer,
    readonly rank: number,
    readonly size: number,
    readonly length: number,
  ) {
    this.control = new Int32Array(buffer, 0, CONTROL_INTS);
    this.slots = new Float32Array(buffer, CONTROL_INTS * 4, size * length);
    this.result = new Float32Array(buffer, CONTROL_INTS * 4 + size * length * 4, length);
  }

  /** This rank's slot: write the values to reduce here, then call `allReduceSum`. */
  ownSlot(n = this.length): Float32Array {
    return this.slots.subarray(this.rank * this.length, this.rank * this.length + n);
  }

  /**
   * Every rank gets Σ_r slot_r over the first n floats, added in rank order. The
   * returned view is valid until this rank's next call; no rank writes its slot for
   * the next call before every rank has finished summing this one (second barrier),
   * nor the result before every rank has read it (first barrier of the next call).
   */
  allReduceSum(n: number): Float32Array {
    this.barrier();
    const chunk = Math.ceil(n / this.size);
    const from = Math.min(n, this.rank * chunk);
    const to = Math.min(n, from + chunk);
    const sum = this.result.subarray(from, to);
    sum.set(this.slots.subarray(from, to));
    for (let r = 1; r < this.size; r++) {
      const part = this.slots.subarray(r * this.length + from, r * this.length + to);
      for (let i = 0; i < part.length; i++) sum[i] += part[i];
    }
    this.barrier();
    return this.result.subarray(0, n);
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
