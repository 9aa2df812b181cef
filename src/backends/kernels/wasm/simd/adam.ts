/**
 * Adam's update of one weight tensor in one pass, four lanes at a time:
 *
 *   adam(w, g, m, v, wOut, mOut, vOut, vectors, β1, 1−β1, β2, 1−β2, a, s, ε)
 *     m' = β1·m + (1−β1)·g,  v' = β2·v + (1−β2)·g²,  w' = w − a·m' / (s·√v' + ε)
 *
 * over `vectors` groups of four floats (the caller does the rest), with a = lr/(1−β1^t)
 * and s = 1/√(1−β2^t), i.e. the bias-corrected update of ../adam.
 */
import { assemble, Func } from './emit';

export function adamModule(): Uint8Array {
  const f = new Func('adam', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32']);
  const [w, g, m, v, wOut, mOut, vOut, vectors, b1, ob1, b2, ob2, a, s, eps] = f.params;
  const splat = (x: typeof b1) => {
    const l = f.local('v128');
    f.get(x).f32x4Splat().set(l);
    return l;
  };
  const [B1, OB1, B2, OB2, A, S, EPS] = [b1, ob1, b2, ob2, a, s, eps].map(splat);
  const gv = f.local('v128');
  const mv = f.local('v128');
  const vv = f.local('v128');
  const i = f.local('i32');
  const at = f.local('i32');
  f.i32(0).set(at);
  f.forCount(i, () => f.get(vectors), () => {
    f.get(g).get(at).add().v128Load().set(gv);
    // m'
    f.get(mOut).get(at).add();
    f.get(m).get(at).add().v128Load().get(B1).f32x4Mul().get(gv).get(OB1).f32x4Mul().f32x4Add().tee(mv);
    f.v128Store();
    // v'
    f.get(vOut).get(at).add();
    f.get(v).get(at).add().v128Load().get(B2).f32x4Mul().get(gv).get(gv).f32x4Mul().get(OB2).f32x4Mul().f32x4Add().tee(vv);
    f.v128Store();
    // w'
    f.get(wOut).get(at).add();
    f.get(w).get(at).add().v128Load();
    f.get(A).get(mv).f32x4Mul();
    f.get(vv).f32x4Sqrt().get(S).f32x4Mul().get(EPS).f32x4Add();
    f.f32x4Div().f32x4Sub().v128Store();
    f.inc(at, 16);
  });
  return assemble([f]);
}
