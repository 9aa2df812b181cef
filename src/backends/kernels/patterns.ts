/** Shape patterns the per-channel kernels handle (everything else goes to the stock kernels). */
import { backend_util, TensorInfo, util } from '@tensorflow/tfjs-core';

/** True for a float32 tensor holding one value per channel ([C] or [1,..,1,C]); also for a missing one. */
export function isChannelVector(t: TensorInfo | undefined, channels: number): boolean {
  if (t == null) return true;
  return t.dtype === 'float32' && util.sizeFromShape(t.shape) === channels && t.shape.slice(0, -1).every((d) => d === 1);
}

/** True when `axis` is every axis but the last of x (a per-channel reduction). */
export function leadingAxes(x: TensorInfo, axis: number | number[]): boolean {
  const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  return x.shape.length >= 2 && axes.length === x.shape.length - 1 && axes.every((a, i) => a === i);
}

/**
 * For a binary op: the full float32 operand [.., C] and the per-channel vector
 * broadcast over it, or null when the operands are not like that.
 */
export function channelBroadcast(a: TensorInfo, b: TensorInfo): { full: TensorInfo; vec: TensorInfo; vectorFirst: boolean } | null {
  const vectorFirst = util.sizeFromShape(a.shape) < util.sizeFromShape(b.shape);
  const [full, vec] = vectorFirst ? [b, a] : [a, b];
  const c = full.shape[full.shape.length - 1];
  const ok = full.dtype === 'float32' && c > 1 && vec.shape.length <= full.shape.length && isChannelVector(vec, c) &&
    util.sizeFromShape(full.shape) > c && util.arraysEqual(backend_util.assertAndGetBroadcastShape(a.shape, b.shape), full.shape);
  return ok ? { full, vec, vectorFirst } : null;
}
