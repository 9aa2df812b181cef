/**
 * Row kernels of the text encoders for rows of D floats (D % 4 == 0), generated
 * per D. Byte addresses; `ids` are int32 for the embedding kernels and float32
 * token ids (0 = padding) for the pooling ones.
 *
 *   gather(table, ids, out, n, rows)        out[i] = table[ids[i]] (zeros when out of range)
 *   segmentSum(x, ids, out, n, segments)    out = 0; out[ids[i]] += x[i] (ids in range)
 *   meanPool(x, ids, y, B, T)               y[b] = mean of x[b, t] over real tokens (0 without)
 *   meanPoolGrad(dy, ids, dx, B, T)         dx[b, t] = dy[b] / #real for real tokens, 0 elsewhere
 *   maxPool(x, ids, y, at, B, T)            y[b] = max over real tokens, at[b] its position (−1, y = 0 without)
 */
import { asWasm, wasmMemory, type BackendWasm } from '../backend';
import { kernelModule } from './cache';
import { assemble, Func, Local } from './emit';

/** The row kernels for rows of D floats on this backend's heap. */
export function rowKernels(backend: BackendWasm, D: number): Record<'gather' | 'segmentSum' | 'meanPool' | 'meanPoolGrad' | 'maxPool', (...args: number[]) => void> {
  return kernelModule(wasmMemory(asWasm(backend)), `rows-${D}`, () => rowsModule(D)) as Record<'gather' | 'segmentSum' | 'meanPool' | 'meanPoolGrad' | 'maxPool', (...args: number[]) => void>;
}

export function rowsModule(D: number): Uint8Array {
  if (D % 4 !== 0) throw new Error(`row kernels need D % 4 == 0, got ${D}`);
  const rowBytes = 4 * D;
  const vectors = D / 4;

  /** for (j = 0; j < rowBytes; j += 16) body(j) */
  const eachVector = (f: Func, body: (j: Local) => void) => {
    const k = f.local('i32');
    const j = f.local('i32');
    f.i32(0).set(j);
    f.forConst(k, vectors, () => {
      body(j);
      f.inc(j, 16);
    });
  };
  /** address = base + index * rowBytes */
  const row = (f: Func, base: Local, index: () => void) => {
    f.get(base);
    index();
    f.i32(rowBytes).mul().add();
  };

  const gather = new Func('gather', ['i32', 'i32', 'i32', 'i32', 'i32']);
  {
    const f = gather;
    const [table, ids, out, n, rows] = f.params;
    const i = f.local('i32');
    const r = f.local('i32');
    f.forCount(i, () => f.get(n), () => {
      f.get(ids).get(i).i32(4).mul().add().i32Load().set(r);
      f.get(r).get(rows).ltU();
      f.ifThen(
        () => { row(f, out, () => f.get(i)); row(f, table, () => f.get(r)); f.i32(rowBytes).memoryCopy(); },
        () => { row(f, out, () => f.get(i)); f.i32(0).i32(rowBytes).memoryFill(); },
      );
    });
  }

  const segmentSum = new Func('segmentSum', ['i32', 'i32', 'i32', 'i32', 'i32']);
  {
    const f = segmentSum;
    const [x, ids, out, n, segments] = f.params;
    const i = f.local('i32');
    const s = f.local('i32');
    const dst = f.local('i32');
    const src = f.local('i32');
    f.get(out).i32(0).get(segments).i32(rowBytes).mul().memoryFill();
    f.forCount(i, () => f.get(n), () => {
      f.get(ids).get(i).i32(4).mul().add().i32Load().set(s);
      f.get(s).get(segments).ltU();
      f.ifThen(() => {
        row(f, out, () => f.get(s)); f.set(dst);
        row(f, x, () => f.get(i)); f.set(src);
        eachVector(f, (j) => {
          f.get(dst).get(j).add();
          f.get(dst).get(j).add().v128Load().get(src).get(j).add().v128Load().f32x4Add();
          f.v128Store();
        });
      });
    });
  }

  /** Visits the real tokens of text b: body(row address of x[b, t], t). Counts them into `count` (f32). */
  const realTokens = (f: Func, x: Local | undefined, ids: Local, b: Local, T: Local, count: Local, body: (address: Local, t: Local) => void) => {
    const t = f.local('i32');
    const address = f.local('i32');
    f.f32(0).set(count);
    f.forCount(t, () => f.get(T), () => {
      f.get(ids).get(b).get(T).mul().get(t).add().i32(4).mul().add().f32Load().f32(0).f32Gt();
      f.ifThen(() => {
        f.get(count).f32(1).f32Add().set(count);
        if (x) { row(f, x, () => f.get(b).get(T).mul().get(t).add()); f.set(address); }
        body(address, t);
      });
    });
  };

  const meanPool = new Func('meanPool', ['i32', 'i32', 'i32', 'i32', 'i32']);
  {
    const f = meanPool;
    const [x, ids, y, B, T] = f.params;
    const b = f.local('i32');
    const yb = f.local('i32');
    const count = f.local('f32');
    const scale = f.local('v128');
    f.forCount(b, () => f.get(B), () => {
      row(f, y, () => f.get(b)); f.tee(yb).i32(0).i32(rowBytes).memoryFill();
      realTokens(f, x, ids, b, T, count, (address) => {
        eachVector(f, (j) => {
          f.get(yb).get(j).add();
          f.get(yb).get(j).add().v128Load().get(address).get(j).add().v128Load().f32x4Add();
          f.v128Store();
        });
      });
      f.f32(1).f32(1).get(count).f32Max().f32Div().f32x4Splat().set(scale);
      eachVector(f, (j) => {
        f.get(yb).get(j).add();
        f.get(yb).get(j).add().v128Load().get(scale).f32x4Mul();
        f.v128Store();
      });
    });
  }

  const meanPoolGrad = new Func('meanPoolGrad', ['i32', 'i32', 'i32', 'i32', 'i32']);
  {
    const f = meanPoolGrad;
    const [dy, ids, dx, B, T] = f.params;
    const b = f.local('i32');
    const dyb = f.local('i32');
    const count = f.local('f32');
    const scale = f.local('v128');
    f.get(dx).i32(0).get(B).get(T).mul().i32(rowBytes).mul().memoryFill();
    f.forCount(b, () => f.get(B), () => {
      row(f, dy, () => f.get(b)); f.set(dyb);
      realTokens(f, undefined, ids, b, T, count, () => {});
      f.f32(1).f32(1).get(count).f32Max().f32Div().f32x4Splat().set(scale);
      realTokens(f, dx, ids, b, T, count, (address) => {
        eachVector(f, (j) => {
          f.get(address).get(j).add();
          f.get(dyb).get(j).add().v128Load().get(scale).f32x4Mul();
          f.v128Store();
        });
      });
    });
  }

  const maxPool = new Func('maxPool', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  {
    const f = maxPool;
    const [x, ids, y, at, B, T] = f.params;
    const b = f.local('i32');
    const yb = f.local('i32');
    const ab = f.local('i32');
    const count = f.local('f32');
    const xv = f.local('v128');
    const yv = f.local('v128');
    const gt = f.local('v128');
    f.forCount(b, () => f.get(B), () => {
      row(f, y, () => f.get(b)); f.set(yb);
      row(f, at, () => f.get(b)); f.set(ab);
      eachVector(f, (j) => {
        f.get(yb).get(j).add().f32(-Infinity).f32x4Splat().v128Store();
        f.get(ab).get(j).add().i32(-1).i32x4Splat().v128Store();
      });
      realTokens(f, x, ids, b, T, count, (address, t) => {
        eachVector(f, (j) => {
          f.get(address).get(j).add().v128Load().set(xv);
          f.get(yb).get(j).add().v128Load().set(yv);
          f.get(xv).get(yv).f32x4Gt().set(gt);
          f.get(yb).get(j).add().get(xv).get(yv).get(gt).v128Bitselect().v128Store();
          f.get(ab).get(j).add().get(t).i32x4Splat().get(ab).get(j).add().v128Load().get(gt).v128Bitselect().v128Store();
        });
      });
      f.get(count).f32(0).f32Gt().eqz();
      f.ifThen(() => { f.get(yb).i32(0).i32(rowBytes).memoryFill(); });
    });
  }

  return assemble([gather, segmentSum, meanPool, meanPoolGrad, maxPool]);
}
