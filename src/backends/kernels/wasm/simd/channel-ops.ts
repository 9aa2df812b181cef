/**
 * Generates WebAssembly SIMD kernels over [rows, C] channels-last data, for one
 * channel count C (channels are vectorised four at a time, the C mod 4 rest is
 * scalar). Exports, with byte addresses and a row count:
 *
 *   affine(x, k, b, rows, out)    out[r,c] = x[r,c] * k[c] + b[c]
 *   affineRelu(x, k, b, rows, out)
 *                                 out[r,c] = max(x[r,c] * k[c] + b[c], 0)
 *   affine2(x, k, z, m, h, b, rows, out)
 *                                 out[r,c] = x[r,c] * k[c] + (z[r,c] - m[c]) * h[c] + b[c]
 *   affine2Relu(x, k, z, m, h, b, p, q, rows, out)
 *                                 affine2 with x[r,c] read as x[r,c] * step(z[r,c] * p[c] + q[c])
 *   mulVec / addVec / subVec / divVec (x, v, rows, out)   out[r,c] = x[r,c] op v[c]
 *   vecSub / vecDiv (x, v, rows, out)                     out[r,c] = v[c] op x[r,c]
 *   blockSums(x, rows, out)       out[blk,c] = sum of x over the block's rows
 *   bnBlockSums(x, dy, mean, rows, out)
 *                                 out[blk,c] = sum dy, out[blk,C+c] = sum dy*(x-mean[c])
 *   bnReluBlockSums(x, dy, mean, p, q, rows, out)
 *                                 bnBlockSums with dy read as dy * step(x * p[c] + q[c])
 *
 * The Relu variants are a batch norm and the relu after it in one pass each way: the
 * forward writes max(x·a + b, 0); the backward recomputes y = x·a + b with the same float32
 * product and sum as the forward (p = a, q = b), so its mask is the forward's exactly, and
 * multiplies dy by step(y) (1 above 0, NaN for NaN, else 0) as Relu's gradient does
 * (relu-grad.ts): the same values, infinite and NaN ones included.
 *
 * Block sums cover BLOCK_ROWS rows each (the last one fewer), in f32; callers add
 * the blocks up in double precision.
 */
import { assemble, Func, Local } from './emit';
import { pushReluStep } from './relu-step';

/**
 * Rows per partial sum: about 1,024 values, and at least 8 rows (with 512-2,048
 * channels one or two rows a block made the partials as large as the input, and
 * adding them up in JS took longer than the sums).
 */
export function blockRows(channels: number): number {
  return Math.max(8, Math.floor(1024 / channels));
}

type Binary = 'add' | 'sub' | 'mul' | 'div';

const F32X4: Record<Binary, (f: Func) => Func> = {
  add: (f) => f.f32x4Add(),
  sub: (f) => f.f32x4Sub(),
  mul: (f) => f.f32x4Mul(),
  div: (f) => f.f32x4Div(),
};

const F32: Record<Binary, (f: Func) => Func> = {
  add: (f) => f.f32Add(),
  sub: (f) => f.f32Sub(),
  mul: (f) => f.f32Mul(),
  div: (f) => f.f32Div(),
};

export function channelOpsModule(C: number): Uint8Array {
  const vecs = Math.floor(C / 4);
  const rest = C % 4;
  const funcs: Func[] = [];

  /** for each row, for each channel: body(vector?, byte offset of the channel) with row pointers advanced by C floats. */
  const rowLoop = (f: Func, rows: Local, ptrs: Local[], body: (vector: boolean, offset: number, j: Local) => void) => {
    const r = f.local('i32');
    const j = f.local('i32');
    f.forCount(r, () => f.get(rows), () => {
      if (vecs > 0) {
        // j walks the byte offset of the channel vector
        f.i32(0).set(j);
        f.loop(() => {
          body(true, 0, j);
          f.inc(j, 16).get(j).i32(16 * vecs).ltS().brIf(0);
        });
      }
      f.i32(16 * vecs).set(j);
      for (let c = 0; c < rest; c++) body(false, 4 * c, j);
      for (const p of ptrs) f.inc(p, 4 * C);
    });
  };

  const binary = (exportName: string, op: Binary, vectorFirst: boolean) => {
    const f = new Func(exportName, ['i32', 'i32', 'i32', 'i32']);
    const [x, v, rows, out] = f.params;
    rowLoop(f, rows, [x, out], (vector, offset, j) => {
      f.get(out).get(j).add();
      const loadX = () => { f.get(x).get(j).add(); if (vector) f.v128Load(offset); else f.f32Load(offset); };
      const loadV = () => { f.get(v).get(j).add(); if (vector) f.v128Load(offset); else f.f32Load(offset); };
      if (vectorFirst) { loadV(); loadX(); } else { loadX(); loadV(); }
      if (vector) F32X4[op](f).v128Store(offset);
      else F32[op](f).f32Store(offset);
    });
    funcs.push(f);
  };
  binary('mulVec', 'mul', false);
  binary('addVec', 'add', false);
  binary('subVec', 'sub', false);
  binary('divVec', 'div', false);
  binary('vecSub', 'sub', true);
  binary('vecDiv', 'div', true);

  /** Leaves x[r,c] * k[c] + b[c] on the stack (x a row pointer, k and b channel vectors). */
  const pushAffine = (f: Func, vector: boolean, offset: number, j: Local, x: Local, k: Local, b: Local) => {
    if (vector) {
      f.get(x).get(j).add().v128Load(offset).get(k).get(j).add().v128Load(offset).f32x4Mul();
      f.get(b).get(j).add().v128Load(offset).f32x4Add();
    } else {
      f.get(x).get(j).add().f32Load(offset).get(k).get(j).add().f32Load(offset).f32Mul();
      f.get(b).get(j).add().f32Load(offset).f32Add();
    }
  };

  for (const relu of [false, true]) {
    const f = new Func(relu ? 'affineRelu' : 'affine', ['i32', 'i32', 'i32', 'i32', 'i32']);
    const [x, k, b, rows, out] = f.params;
    rowLoop(f, rows, [x, out], (vector, offset, j) => {
      f.get(out).get(j).add();
      pushAffine(f, vector, offset, j, x, k, b);
      if (relu && vector) f.v128Zero().f32x4Max();
      else if (relu) f.f32(0).f32Max();
      if (vector) f.v128Store(offset);
      else f.f32Store(offset);
    });
    funcs.push(f);
  }

  /** Multiplies the value on the stack by step(y), y the value `pushY` leaves, kept in the local `y` (of its type): Relu's gradient. */
  const timesStep = (f: Func, vector: boolean, pushY: () => void, y: Local) => {
    pushY();
    f.set(y);
    pushReluStep(f, vector, y);
    if (vector) f.f32x4Mul();
    else f.f32Mul();
  };

  for (const relu of [false, true]) {
    const f = new Func(relu ? 'affine2Relu' : 'affine2', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', ...(relu ? ['i32', 'i32'] as const : []), 'i32', 'i32']);
    const [x, k, z, m, h, b, ...rest] = f.params;
    const [p, q] = relu ? rest : [];
    const [rows, out] = rest.slice(relu ? 2 : 0);
    const [yV, yF] = [f.local('v128'), f.local('f32')];
    rowLoop(f, rows, [x, z, out], (vector, offset, j) => {
      f.get(out).get(j).add();
      if (vector) {
        f.get(x).get(j).add().v128Load(offset);
        if (relu) timesStep(f, true, () => pushAffine(f, true, offset, j, z, p, q), yV);
        f.get(k).get(j).add().v128Load(offset).f32x4Mul();
        f.get(z).get(j).add().v128Load(offset).get(m).get(j).add().v128Load(offset).f32x4Sub();
        f.get(h).get(j).add().v128Load(offset).f32x4Mul().f32x4Add();
        f.get(b).get(j).add().v128Load(offset).f32x4Add().v128Store(offset);
      } else {
        f.get(x).get(j).add().f32Load(offset);
        if (relu) timesStep(f, false, () => pushAffine(f, false, offset, j, z, p, q), yF);
        f.get(k).get(j).add().f32Load(offset).f32Mul();
        f.get(z).get(j).add().f32Load(offset).get(m).get(j).add().f32Load(offset).f32Sub();
        f.get(h).get(j).add().f32Load(offset).f32Mul().f32Add();
        f.get(b).get(j).add().f32Load(offset).f32Add().f32Store(offset);
      }
    });
    funcs.push(f);
  }

  /**
   * Per block of rows, per channel (vector): sums of `terms` accumulated down the
   * block's rows, stored at out[blk, t*C + c].
   */
  const blockSums = (
    f: Func, rows: Local, out: Local, bases: Local[], nTerms: number,
    load: (vector: boolean, offset: number, ptrs: Local[], term: number) => void,
    setup?: (vector: boolean, offset: number, channel: Local) => void,
  ) => {
    const B = blockRows(C);
    const blk = f.local('i32');
    const left = f.local('i32');
    const n = f.local('i32');
    const r = f.local('i32');
    const j = f.local('i32');
    const ptrs = bases.map(() => f.local('i32'));
    const accV = Array.from({ length: nTerms }, () => f.local('v128'));
    const accF = Array.from({ length: nTerms }, () => f.local('f32'));
    f.get(rows).set(left);
    f.i32(0).set(blk);
    f.block(() => {
      f.get(left).i32(0).leS().brIf(0);
      f.loop(() => {
        // n = min(B, left)
        f.get(left).set(n);
        f.get(n).i32(B).gtS().ifThen(() => { f.i32(B).set(n); });
        const channel = (vector: boolean, offset: number) => {
          setup?.(vector, offset, j);
          for (let t = 0; t < nTerms; t++) {
            if (vector) f.v128Zero().set(accV[t]);
            else f.f32(0).set(accF[t]);
          }
          bases.forEach((b, i) => f.get(b).get(j).add().set(ptrs[i]));
          f.forCount(r, () => f.get(n), () => {
            for (let t = 0; t < nTerms; t++) {
              if (vector) f.get(accV[t]);
              else f.get(accF[t]);
              load(vector, offset, ptrs, t);
              if (vector) f.f32x4Add().set(accV[t]);
              else f.f32Add().set(accF[t]);
            }
            for (const p of ptrs) f.inc(p, 4 * C);
          });
          for (let t = 0; t < nTerms; t++) {
            f.get(out).get(j).add();
            if (vector) f.get(accV[t]).v128Store(offset + 4 * t * C);
            else f.get(accF[t]).f32Store(offset + 4 * t * C);
          }
        };
        if (vecs > 0) {
          f.i32(0).set(j);
          f.loop(() => {
            channel(true, 0);
            f.inc(j, 16).get(j).i32(16 * vecs).ltS().brIf(0);
          });
        }
        f.i32(16 * vecs).set(j);
        for (let c = 0; c < rest; c++) channel(false, 4 * c);
        for (const b of bases) f.get(b).i32(4 * C).get(n).mul().add().set(b);
        f.inc(out, 4 * nTerms * C);
        f.get(left).get(n).sub().tee(left).i32(0).gtS().brIf(0);
      });
    });
  };

  {
    const f = new Func('blockSums', ['i32', 'i32', 'i32']);
    const [x, rows, out] = f.params;
    blockSums(f, rows, out, [x], 1, (vector, offset, ptrs) => {
      f.get(ptrs[0]);
      if (vector) f.v128Load(offset);
      else f.f32Load(offset);
    });
    funcs.push(f);
  }
  for (const relu of [false, true]) {
    const f = new Func(relu ? 'bnReluBlockSums' : 'bnBlockSums', relu ? ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] : ['i32', 'i32', 'i32', 'i32', 'i32']);
    const [x, dy, mean, ...rest] = f.params;
    const [p, q] = relu ? rest : [];
    const [rows, out] = rest.slice(relu ? 2 : 0);
    // Per channel (vector): the mean, and for the mask the forward's scale and shift.
    const [muV, pV, qV] = [f.local('v128'), f.local('v128'), f.local('v128')];
    const [muF, pF, qF] = [f.local('f32'), f.local('f32'), f.local('f32')];
    // dy (times the relu's step), loaded for the first sum and kept for the second
    const [dyV, dyF, yV, yF] = [f.local('v128'), f.local('f32'), f.local('v128'), f.local('f32')];
    blockSums(f, rows, out, [x, dy], 2, (vector, offset, ptrs, term) => {
      if (term === 0) {
        f.get(ptrs[1]);
        if (vector) f.v128Load(offset);
        else f.f32Load(offset);
        if (relu && vector) timesStep(f, true, () => f.get(ptrs[0]).v128Load(offset).get(pV).f32x4Mul().get(qV).f32x4Add(), yV);
        else if (relu) timesStep(f, false, () => f.get(ptrs[0]).f32Load(offset).get(pF).f32Mul().get(qF).f32Add(), yF);
        f.tee(vector ? dyV : dyF);
      } else if (vector) {
        f.get(dyV).get(ptrs[0]).v128Load(offset).get(muV).f32x4Sub().f32x4Mul();
      } else {
        f.get(dyF).get(ptrs[0]).f32Load(offset).get(muF).f32Sub().f32Mul();
      }
    }, (vector, offset, channel) => {
      const vectors: [Local, Local, Local][] = relu ? [[mean, muV, muF], [p, pV, pF], [q, qV, qF]] : [[mean, muV, muF]];
      for (const [source, v, s] of vectors) {
        f.get(source).get(channel).add();
        if (vector) f.v128Load(offset).set(v);
        else f.f32Load(offset).set(s);
      }
    });
    funcs.push(f);
  }
  return assemble(funcs);
}
