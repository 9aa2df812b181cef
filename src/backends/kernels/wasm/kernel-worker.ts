/**
 * A kernel thread (see kernel-pool.ts): waits for its job number to change, runs the
 * calls in its job area on the shared wasm heap, counts itself done. It never returns
 * to its event loop; kernel definitions arrive on its port and are read synchronously.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { awaitChange, CONTROL, ERROR_BYTES, JOB_WORDS, KernelDefinition, KernelWorkerData } from './kernel-pool';
import { instantiateModule } from './simd/emit';

const { memory, control, jobs, error, index, port } = workerData as KernelWorkerData;
const flags = new Int32Array(control);
const job = new Float64Array(jobs, 8 * JOB_WORDS * index, JOB_WORDS);
const functions: ((...args: number[]) => void)[] = [];

/** The function of definition `id`, reading definitions off the port until it has come. */
function functionOf(id: number): (...args: number[]) => void {
  while (functions[id] === undefined) {
    const message = receiveMessageOnPort(port);
    if (message === undefined) continue;
    const d = message.message as KernelDefinition;
    functions[d.id] = instantiateModule(d.module, memory)[d.fn];
  }
  return functions[id];
}

function runJob(): void {
  let at = 1;
  for (let c = 0; c < job[0]; c++) {
    const fn = functionOf(job[at++]);
    const count = job[at++];
    const args = Array.from(job.subarray(at, at + count));
    at += count;
    fn(...args);
  }
}

// From 0, not the current value: the first job may be posted before this thread has started.
for (let seq = 0; ;) {
  seq = awaitChange(flags, CONTROL.seq + index, seq);
  try {
    runJob();
  } catch (e) {
    if (Atomics.compareExchange(flags, CONTROL.failed, 0, 1) === 0) {
      const text = Buffer.from(e instanceof Error ? `${e.message}\n${e.stack}` : String(e), 'utf8').subarray(0, ERROR_BYTES - 1);
      new Uint8Array(error).set(text);
    }
  }
  Atomics.add(flags, CONTROL.done, 1);
  Atomics.notify(flags, CONTROL.done);
}
