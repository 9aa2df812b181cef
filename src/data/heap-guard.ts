/**
 * Streamed reading turns over far more memory than it holds: every block's table, and a
 * Parquet page is decoded whole. V8 collects its old generation only once the heap has
 * grown by a factor of what survived the last collection, so without help the garbage of
 * a few hundred megabytes of decoded rows stays resident and the peak is set by V8, not
 * by data.memory_budget. A guard checks the heap between blocks and collects it in full
 * once it has grown by the budget since the last collection: a few collections an epoch.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/** V8's full collection: global.gc when node runs with --expose-gc, else exposed once (as jest's leak detector does). */
function fullCollection(): () => void {
  if (!collect) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) collect = exposed;
    else {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    }
  }
  return collect;
}

/** A full collection now: after loading a table whole, whose parsing leaves garbage of several times the data, training starts without it resident. */
export function collectGarbage(): void {
  fullCollection()();
}

const heapBytes = () => {
  const s = getHeapStatistics();
  return s.used_heap_size + s.external_memory;
};

export class HeapGuard {
  private limit = -1;
  collections = 0;

  /** budget: how far the heap may grow between collections. */
  constructor(private readonly budget: number) {}

  /** Between blocks: a full collection when the heap has grown by the budget since the last. */
  check(): void {
    const used = heapBytes();
    if (this.limit < 0) this.limit = used + this.budget;
    else if (used > this.limit) {
      fullCollection()();
      this.collections++;
      this.limit = heapBytes() + this.budget;
    }
  }
}
