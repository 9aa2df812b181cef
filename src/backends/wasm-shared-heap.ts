/**
 * Starts tfjs's threaded wasm build under Node, whose heap is a shared
 * WebAssembly.Memory, so that mtl's kernel threads (kernels/wasm/kernel-pool.ts)
 * run on tensors in place. tfjs turns this build off under Node (tfjs issue 3830)
 * because it hands Emscripten its worker script as a Blob URL, which Node's
 * worker_threads cannot load: here the script goes to a file instead, for the time
 * of the start. tfjs's own thread pool (8 Emscripten workers for XNNPACK) is then
 * stopped: XNNPACK runs with one thread, and mtl's kernels bring their own.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface ThreadedModule {
  PThread?: { unusedWorkers: { terminate(): void }[] };
}

const BUILD = '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd';

/** setBackend('wasm') on the threaded SIMD build (tfjs-backend-wasm must be loaded, and wasm not yet started). */
export async function startSharedHeapWasm(setThreadsCount: (n: number) => void): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'mtl-wasm-'));
  const factory = require(`${BUILD}.js`) as { default?: unknown };
  const mainScript = join(dir, 'main.js');
  writeFileSync(mainScript, `var WasmBackendModuleThreadedSimd = ${String(factory.default ?? factory)}`);
  const { wasmWorkerContents } = require(`${BUILD}.worker.js`) as { wasmWorkerContents: string };
  const workerScript = join(dir, 'worker.js');
  // The worker turns the main script's Blob into a URL itself: point it at the file.
  writeFileSync(workerScript, `URL.createObjectURL = () => ${JSON.stringify(mainScript)};\n${wasmWorkerContents.replace(/\n/g, '\\n')}`);
  const createObjectURL = URL.createObjectURL;
  URL.createObjectURL = () => workerScript;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(1);
  try {
    if (!(await tf.setBackend('wasm'))) return false;
    await tf.ready();
  } finally {
    URL.createObjectURL = createObjectURL;
    rmSync(dir, { recursive: true, force: true });
  }
  const wasm = (tf.backend() as unknown as { wasm: ThreadedModule }).wasm;
  const unused = wasm.PThread?.unusedWorkers ?? [];
  for (const worker of unused) worker.terminate();
  unused.length = 0;
  return true;
}
