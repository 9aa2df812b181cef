/**
 * Relaxed-SIMD fused multiply-add (f32x4.relaxed_madd), detected at run time. Node 20
 * has it behind V8's --experimental-wasm-relaxed-simd; where the flag is off mtl
 * turns it on (v8.setFlagsFromString, before any module that uses it compiles) and
 * checks that a module using it validates. MTL_RELAXED_SIMD=0 keeps the kernels on
 * separate multiply and add. Where relaxed SIMD is unavailable the kernels fall back
 * to mul + add; results differ only in rounding (one rounding per multiply-add).
 */
import { setFlagsFromString } from 'node:v8';
import { assemble, Func } from './emit';
import { WA } from './webassembly';

let available: boolean | undefined;

function probe(): Uint8Array {
  const f = new Func('t', ['i32']);
  const [p] = f.params;
  f.get(p).get(p).v128Load().get(p).v128Load().get(p).v128Load().f32x4RelaxedMadd().v128Store();
  return assemble([f]);
}

/** True when generated kernels may use f32x4.relaxed_madd. */
export function relaxedMaddAvailable(): boolean {
  if (available !== undefined) return available;
  if (process.env.MTL_RELAXED_SIMD === '0') return (available = false);
  const bytes = probe();
  if (!WA.validate(bytes)) {
    try {
      setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      // flags are read-only here
    }
  }
  available = WA.validate(bytes);
  return available;
}
