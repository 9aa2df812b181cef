/**
 * The sums of the data-parallel all-reduce (src/training/parallel/collective.ts) as SIMD
 * loops on the collective's shared memory: each rank's values times its scale, added in
 * rank order.
 *
 *   copyScaled(dst, src, n, scale)   dst[i] = scale·src[i]
 *   addScaled(dst, src, n, scale)    dst[i] = dst[i] + scale·src[i]
 *
 * Byte addresses, n floats. Float32 products and sums, no fused multiply-add: the values
 * are those of scaling each rank's values first and adding them after.
 */
import { assemble, Func, instantiate } from './emit';
import type { WasmMemory } from './webassembly';

export type ScaledSum = Record<'copyScaled' | 'addScaled', (dst: number, src: number, n: number, scale: number) => void>;

/** The module (for the collective's shared memory or a wasm heap: `compile` adapts its import). */
export function scaledSumModule(): Uint8Array {
  const make = (name: string, add: boolean) => {
    const f = new Func(name, ['i32', 'i32', 'i32', 'f32']);
    const [dst, src, n, scale] = f.params;
    const i = f.local('i32');
    const s = f.local('v128');
    f.get(scale).f32x4Splat().set(s);
    const element = (vector: boolean) => {
      f.get(dst);
      if (add) f.get(dst)[vector ? 'v128Load' : 'f32Load']();
      f.get(src)[vector ? 'v128Load' : 'f32Load']();
      if (vector) f.get(s).f32x4Mul();
      else f.get(scale).f32Mul();
      if (add) f[vector ? 'f32x4Add' : 'f32Add']();
      f[vector ? 'v128Store' : 'f32Store']();
      f.inc(dst, vector ? 16 : 4).inc(src, vector ? 16 : 4);
    };
    f.forCount(i, () => f.get(n).i32(4).divU(), () => element(true));
    f.forCount(i, () => f.get(n).i32(3).and(), () => element(false));
    return f;
  };
  return assemble([make('copyScaled', false), make('addScaled', true)]);
}

/** The kernels, compiled against a shared memory. */
export function scaledSum(memory: WasmMemory): ScaledSum {
  return instantiate(scaledSumModule(), memory) as unknown as ScaledSum;
}
