/** A kernel thread (see kernel-pool.ts): runs the calls it is posted on the shared wasm heap. */
import { parentPort, workerData } from 'node:worker_threads';
import { CONTROL, ERROR_BYTES, KernelJob, KernelWorkerData } from './kernel-pool';
import { Exports } from './simd/cache';
import { instantiateModule } from './simd/emit';

const { memory, control, error } = workerData as KernelWorkerData;
const flags = new Int32Array(control);
const instances = new Map<string, Exports>();

parentPort!.on('message', (job: KernelJob) => {
  try {
    for (const call of job.calls) {
      let exports = instances.get(call.key);
      if (exports === undefined) {
        if (call.module === undefined) throw new Error(`kernel ${call.key} was never sent to this thread`);
        exports = instantiateModule(call.module, memory);
        instances.set(call.key, exports);
      }
      exports[call.fn](...call.args);
    }
  } catch (e) {
    if (Atomics.compareExchange(flags, CONTROL.failed, 0, 1) === 0) {
      const text = Buffer.from(e instanceof Error ? `${e.message}\n${e.stack}` : String(e), 'utf8').subarray(0, ERROR_BYTES - 1);
      new Uint8Array(error).set(text);
    }
  }
  Atomics.add(flags, CONTROL.done, 1);
  Atomics.notify(flags, CONTROL.done);
});
