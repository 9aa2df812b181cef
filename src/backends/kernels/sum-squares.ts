/**
 * Σ x² of a float32 tensor in one read-only pass, for the gradient norm every step takes
 * (HostAdam.gradNormSq), where tfjs runs Square (a full-size output) then Sum: on wasm
 * a SIMD loop on the heap adding blocks of 1,024 squares in float32 lanes and the
 * blocks in float64; on cpu a plain loop in float64. Undefined on other backends.
 */
import { backend, getBackend, type Tensor } from '@tensorflow/tfjs-core';
import { hostArrays } from './host-arrays';
import { kernelModule } from './wasm/simd/cache';
import { assemble, Func } from './wasm/simd/emit';
import { allocF32, asWasm, heapF32, heapPtr, release, wasmMemory } from './wasm/backend';

const BLOCK_VECTORS = 256;

/** `ssq(x, blocks, out)`: out (f64) = Σ over `blocks` blocks of 256 f32x4 vectors of x² (each block summed in f32). */
function sumSquaresModule(): Uint8Array {
  const f = new Func('ssq', ['i32', 'i32', 'i32']);
  const [x, blocks, out] = f.params;
  const b = f.local('i32');
  const k = f.local('i32');
  const at = f.local('i32');
  const acc = f.local('v128');
  const v = f.local('v128');
  const total = f.local('f64');
  f.i32(0).set(at);
  f.forCount(b, () => f.get(blocks), () => {
    f.v128Zero().set(acc);
    f.forConst(k, BLOCK_VECTORS, () => {
      f.get(x).get(at).add().v128Load().tee(v).get(v).f32x4Mul().get(acc).f32x4Add().set(acc);
      f.inc(at, 16);
    });
    for (let lane = 0; lane < 4; lane++) f.get(total).get(acc).f32x4ExtractLane(lane).f64PromoteF32().f64Add().set(total);
  });
  f.get(out).get(total).f64Store();
  return assemble([f]);
}

export function sumOfSquares(t: Tensor): number | undefined {
  const name = getBackend();
  if (t.dtype !== 'float32' || (name !== 'wasm' && name !== 'cpu')) return undefined;
  const n = t.size;
  let sum = 0;
  let done = 0;
  if (name === 'wasm') {
    const wasm = asWasm(backend());
    const blocks = Math.floor(n / (4 * BLOCK_VECTORS));
    if (blocks > 0) {
      const out = allocF32(wasm, [2]);
      kernelModule(wasmMemory(wasm), 'sum-squares', sumSquaresModule).ssq(heapPtr(wasm, t), blocks, heapPtr(wasm, out));
      const f32 = heapF32(wasm, out);
      sum = new Float64Array(f32.buffer, f32.byteOffset, 1)[0];
      release(wasm, out);
      done = blocks * 4 * BLOCK_VECTORS;
    }
  }
  const values = hostArrays(name, backend()).view(t);
  for (let i = done; i < n; i++) sum += values[i] * values[i];
  return sum;
}
