/** Relu's gradient factor for the generated kernels (relu-grad.ts, and the batch norms with a fused relu in channel-ops.ts). */
import type { Func, Local } from './emit';

/** Pushes step(y) of the local y, as f32x4 or f32: 1 where y > 0, NaN where y is NaN, else 0 (so dy · step(y) is the stock Relu gradient). */
export function pushReluStep(f: Func, vector: boolean, y: Local): void {
  if (vector) f.get(y).f32(1).f32x4Splat().get(y).v128Zero().f32x4Gt().v128And().get(y).get(y).f32x4Ne().v128Bitselect();
  else f.f32(1).get(y).f32(0).get(y).get(y).f32Ne().select().get(y).f32(0).f32Gt().select();
}
