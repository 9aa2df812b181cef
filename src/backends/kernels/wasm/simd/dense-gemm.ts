/**
 * A generated SIMD matrix product for dense layers, C = A · B (+ bias) (relu), with A
 * read through byte strides so one kernel shape serves all three products of a dense
 * layer and its gradient without transposing the activations:
 *
 *   forward  y  = x · W + b     A = x [N, K]  (row stride 4K, column stride 4)
 *   weights  dW = xᵀ · dz       A = xᵀ        (row stride 4, column stride 4K)
 *   bias     db = 1ᵀ · dz       A = one float (both strides 0)
 *   input    dx = dz · Wᵀ       A = dz [N, M], B = Wᵀ (transposed by the caller; W is small)
 *
 * `gemm(a, b, bias, c, rows, inner)`: C [rows, cols] (row stride 4·cols) from A
 * [rows, inner] and B [inner, cols] (row stride 4·cols). Register tiles of 4 rows x 8
 * columns (1 row for the last rows % 4, 4 columns for the last columns, the final
 * partial vector stored lane by lane). A partial vector reads up to 12 bytes past the
 * end of B's rows and the bias: the caller guarantees that memory exists (heapSlack).
 */
import { assemble, Func, Local } from './emit';
import { relaxedMaddAvailable } from './relaxed';

export interface DenseGemmSpec {
  /** Columns of C and B. */
  cols: number;
  /** Byte strides of A between rows and between columns. */
  aRow: number;
  aCol: number;
  bias: boolean;
  relu: boolean;
}

const P = 4;
const V = 2;

/** while (count != 0) { body; count-- } */
function countdown(f: Func, count: Local, body: () => void): void {
  f.block(() => {
    f.get(count).eqz().brIf(0);
    f.loop(() => {
      body();
      f.get(count).i32(1).sub().tee(count).brIf(0);
    });
  });
}

export function denseGemmModule(s: DenseGemmSpec): Uint8Array {
  const f = new Func('gemm', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [a, b, bias, c, rows, inner] = f.params;
  const fused = relaxedMaddAvailable();
  const ldc = 4 * s.cols;
  const fullVectors = Math.floor(s.cols / 4);
  const tailLanes = s.cols % 4;
  const r0 = f.local('i32');
  const ap0 = f.local('i32');
  const cp0 = f.local('i32');
  const ap = f.local('i32');
  const bp = f.local('i32');
  const col = f.local('i32');
  const n = f.local('i32');
  const cb = f.local('i32');
  const acc = Array.from({ length: P * V }, () => f.local('v128'));
  const wv = Array.from({ length: V }, () => f.local('v128'));
  const xs = f.local('v128');

  /** The tile of p rows x nv vectors at byte column `col` (the last vector `lanes` wide when lanes < 4). */
  const tile = (p: number, nv: number, lanes: number) => {
    for (let r = 0; r < p; r++) {
      for (let j = 0; j < nv; j++) {
        if (s.bias) f.get(bias).get(col).add().v128Load(16 * j);
        else f.v128Zero();
        f.set(acc[r * V + j]);
      }
    }
    f.get(ap0).set(ap);
    f.get(b).get(col).add().set(bp);
    f.get(inner).set(n);
    countdown(f, n, () => {
      for (let j = 0; j < nv; j++) f.get(bp).v128Load(16 * j).set(wv[j]);
      for (let r = 0; r < p; r++) {
        f.get(ap).f32x4LoadSplat(r * s.aRow).set(xs);
        for (let j = 0; j < nv; j++) f.madd(acc[r * V + j], xs, wv[j], fused);
      }
      f.inc(ap, s.aCol).inc(bp, ldc);
    });
    for (let r = 0; r < p; r++) {
      for (let j = 0; j < nv; j++) {
        const v = acc[r * V + j];
        if (s.relu) f.get(v).v128Zero().f32x4Max().set(v);
        const at = r * ldc + 16 * j;
        if (lanes === 4) {
          f.get(cp0).get(col).add().get(v).v128Store(at);
        } else {
          for (let l = 0; l < lanes; l++) f.get(cp0).get(col).add().get(v).f32x4ExtractLane(l).f32Store(at + 4 * l);
        }
      }
    }
  };

  /** Every column of the rows [r0, r0 + p). */
  const rowBlock = (p: number) => {
    f.i32(0).set(col);
    const blocks = Math.floor(fullVectors / V);
    if (blocks > 0) {
      f.i32(blocks).set(cb);
      countdown(f, cb, () => {
        tile(p, V, 4);
        f.inc(col, 16 * V);
      });
    }
    for (let j = blocks * V; j < fullVectors; j++) {
      tile(p, 1, 4);
      f.inc(col, 16);
    }
    if (tailLanes > 0) tile(p, 1, tailLanes);
  };

  f.i32(0).set(r0);
  f.get(a).set(ap0);
  f.get(c).set(cp0);
  // full blocks of P rows, then one row at a time
  f.block(() => {
    f.loop(() => {
      f.get(r0).i32(P).add().get(rows).gtS().brIf(1);
      rowBlock(P);
      f.inc(r0, P).inc(ap0, P * s.aRow).inc(cp0, P * ldc);
      f.br(0);
    });
  });
  f.block(() => {
    f.loop(() => {
      f.get(r0).get(rows).geS().brIf(1);
      rowBlock(1);
      f.inc(r0, 1).inc(ap0, s.aRow).inc(cp0, ldc);
      f.br(0);
    });
  });
  return assemble([f]);
}
