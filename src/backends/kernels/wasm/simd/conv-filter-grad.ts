/**
 * Generates a WebAssembly SIMD kernel, specialised to one convolution geometry,
 * for the filter gradient read straight from NHWC x and dy:
 *
 *   dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[n,oh,ow,co]
 *
 * For each image and each chunk of output rows (small enough to stay in L1),
 * for each tap (kh,kw), a tile of CB input channels x 4*VECS output channels is
 * accumulated in registers over the chunk's pixels: one f32x4 load of dy per
 * vector, one splat load of x per input channel, then mul + add.
 */
import { ConvGeometry } from '../../conv-geometry';
import { relaxedMaddAvailable } from './relaxed';
import { assemble, Func, Local } from './emit';

/** Input channels per register tile. */
const CB = 4;
/** f32x4 vectors of output channels per register tile. */
const VECS = 2;

/** Valid [lo, hi) output positions whose input tap k lands inside [0, size). */
function validRange(out: number, stride: number, pad: number, k: number, size: number): [number, number] {
  const lo = Math.max(0, Math.ceil((pad - k) / stride));
  const hi = Math.min(out, Math.floor((size - 1 + pad - k) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}

/** Output rows per chunk: enough pixels to amortise the tile loads, few enough to stay in L1. */
function chunkRows(g: ConvGeometry): number {
  const bytesPerRow = 4 * (g.outWidth * g.outChannels + g.strideHeight * g.inWidth * g.inChannels);
  return Math.max(1, Math.min(g.outHeight, Math.floor(24576 / bytesPerRow)));
}

/**
 * Module bytes exporting `dw(xPtr, dyPtr, outPtr)` (byte addresses on the heap).
 * With `maskedTail`, the last (Co mod 4) output channels are a vector whose
 * extra lanes see dy masked to zero (so they add nothing to the neighbouring
 * values they cover); its 16-byte accesses reach up to 12 bytes past dy and dW.
 */
export function convFilterGradModule(g: ConvGeometry, maskedTail: boolean): Uint8Array {
  const f = new Func('dw', ['i32', 'i32', 'i32']);
  const fused = relaxedMaddAvailable();
  const [x, dy, out] = f.params;
  const { inChannels: ci, outChannels: co, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = g;
  const sh = g.strideHeight;
  const sw = g.strideWidth;
  const R = chunkRows(g);

  // out[:] = 0
  const i = f.local('i32');
  const total = g.filterHeight * g.filterWidth * ci * co;
  f.forConst(i, total, () => {
    f.get(out).get(i).i32(4).mul().add().f32(0).f32Store();
  });

  const n = f.local('i32');
  const chunk = f.local('i32');
  const chunkLo = f.local('i32');
  const chunkHi = f.local('i32');
  const lo = f.local('i32');
  const rows = f.local('i32');
  const xImg = f.local('i32');
  const dyImg = f.local('i32');
  const xStart = f.local('i32');
  const dyStart = f.local('i32');
  const cb = f.local('i32');
  const ob = f.local('i32');
  const qB = f.local('i32');
  const pB = f.local('i32');
  const dwB = f.local('i32');
  const dwCB = f.local('i32');
  const p = f.local('i32');
  const q = f.local('i32');
  const pp = f.local('i32');
  const qq = f.local('i32');
  const r = f.local('i32');
  const c = f.local('i32');
  const accs = Array.from({ length: CB * VECS }, () => f.local('v128'));
  const accS = Array.from({ length: CB * 3 }, () => f.local('f32'));
  const dyv = Array.from({ length: VECS }, () => f.local('v128'));
  const dys = Array.from({ length: 3 }, () => f.local('f32'));
  const xs = f.local('v128');
  const xf = f.local('f32');

  /** Register tile of nci input x (4*nvec + nsc) output channels over the rows x cols pixels. */
  const tile = (nci: number, nvec: number, nsc: number, cols: number, dwPtr: Local, dyPtr: Local, xPtr: Local, lastLanes = 4) => {
    const acc = (a: number, j: number) => accs[a * VECS + j];
    const sc = (a: number, j: number) => accS[a * 3 + j];
    for (let a = 0; a < nci; a++) {
      for (let j = 0; j < nvec; j++) f.get(dwPtr).v128Load(4 * (a * co + 4 * j)).set(acc(a, j));
      for (let j = 0; j < nsc; j++) f.get(dwPtr).f32Load(4 * (a * co + 4 * nvec + j)).set(sc(a, j));
    }
    f.get(dyPtr).set(p).get(xPtr).set(q).get(rows).set(r);
    f.loop(() => {
      f.get(p).set(pp).get(q).set(qq).i32(cols).set(c);
      f.loop(() => {
        for (let j = 0; j < nvec; j++) {
          f.get(pp).v128Load(16 * j);
          if (j === nvec - 1 && lastLanes < 4) f.v128LaneMask(lastLanes).v128And();
          f.set(dyv[j]);
        }
        for (let j = 0; j < nsc; j++) f.get(pp).f32Load(16 * nvec + 4 * j).set(dys[j]);
        for (let a = 0; a < nci; a++) {
          if (nvec > 0) {
            f.get(qq).f32x4LoadSplat(4 * a).set(xs);
            for (let j = 0; j < nvec; j++) f.madd(acc(a, j), xs, dyv[j], fused);
          }
          if (nsc > 0) {
            f.get(qq).f32Load(4 * a).set(xf);
            for (let j = 0; j < nsc; j++) f.get(sc(a, j)).get(xf).get(dys[j]).f32Mul().f32Add().set(sc(a, j));
          }
        }
        f.inc(pp, 4 * co).inc(qq, 4 * sw * ci);
        f.get(c).i32(1).sub().tee(c).brIf(0);
      });
      f.inc(p, 4 * ow * co).inc(q, 4 * sh * w * ci);
      f.get(r).i32(1).sub().tee(r).brIf(0);
    });
    for (let a = 0; a < nci; a++) {
      for (let j = 0; j < nvec; j++) f.get(dwPtr).get(acc(a, j)).v128Store(4 * (a * co + 4 * j));
      for (let j = 0; j < nsc; j++) f.get(dwPtr).get(sc(a, j)).f32Store(4 * (a * co + 4 * nvec + j));
    }
  };

  /** All output channels for nci input channels starting at xBase / dwBase. */
  const coBlocks = (nci: number, cols: number, dwBase: Local, xBase: Local) => {
    const fullBlocks = Math.floor(co / (4 * VECS));
    const rest = co - fullBlocks * 4 * VECS;
    f.forConst(ob, fullBlocks, () => {
      f.get(dyStart).get(ob).i32(16 * VECS).mul().add().set(pB);
      f.get(dwBase).get(ob).i32(16 * VECS).mul().add().set(dwB);
      tile(nci, VECS, 0, cols, dwB, pB, xBase);
    });
    if (rest > 0) {
      f.get(dyStart).i32(4 * fullBlocks * 4 * VECS).add().set(pB);
      f.get(dwBase).i32(4 * fullBlocks * 4 * VECS).add().set(dwB);
      if (maskedTail) {
        tile(nci, Math.ceil(rest / 4), 0, cols, dwB, pB, xBase, rest % 4 === 0 ? 4 : rest % 4);
        return;
      }
      for (let done = 0; done < rest; done += 4 * 3) {
        // at most three scalars per tile keep the register count low
        const part = Math.min(rest - done, 12);
        tile(nci, Math.floor(part / 4), part % 4, cols, dwB, pB, xBase);
        if (done + 12 < rest) f.inc(pB, 48).inc(dwB, 48);
      }
    }
  };

  f.forConst(n, g.batch, () => {
    f.get(x).get(n).i32(4 * h * w * ci).mul().add().set(xImg);
    f.get(dy).get(n).i32(4 * oh * ow * co).mul().add().set(dyImg);
    f.forConst(chunk, Math.ceil(oh / R), () => {
      f.get(chunk).i32(R).mul().set(chunkLo);
      f.get(chunkLo).i32(R).add().set(chunkHi);
      f.get(chunkHi).i32(oh).gtS().ifThen(() => { f.i32(oh).set(chunkHi); });
      for (let kh = 0; kh < g.filterHeight; kh++) {
        const [ohLo, ohHi] = validRange(oh, sh, g.padTop, kh, h);
        if (ohHi <= ohLo) continue;
        // rows = min(chunkHi, ohHi) - max(chunkLo, ohLo)
        f.get(chunkLo).set(lo);
        f.get(lo).i32(ohLo).ltS().ifThen(() => { f.i32(ohLo).set(lo); });
        f.get(chunkHi).set(rows);
        f.get(rows).i32(ohHi).gtS().ifThen(() => { f.i32(ohHi).set(rows); });
        f.get(rows).get(lo).sub().tee(rows).i32(0).gtS().ifThen(() => {
          for (let kw = 0; kw < g.filterWidth; kw++) {
            const [owLo, owHi] = validRange(ow, sw, g.padLeft, kw, w);
            if (owHi <= owLo) continue;
            const cols = owHi - owLo;
            // x row lo*sh + kh - pt, column owLo*sw + kw - pl; dy row lo, column owLo
            f.get(xImg).get(lo).i32(4 * sh * w * ci).mul().add().i32(4 * (((kh - g.padTop) * w) + owLo * sw + kw - g.padLeft) * ci).add().set(xStart);
            f.get(dyImg).get(lo).i32(4 * ow * co).mul().add().i32(4 * owLo * co).add().set(dyStart);
            const dwTap = 4 * (kh * g.filterWidth + kw) * ci * co;
            const fullCi = Math.floor(ci / CB);
            f.forConst(cb, fullCi, () => {
              f.get(xStart).get(cb).i32(4 * CB).mul().add().set(qB);
              f.get(out).get(cb).i32(4 * CB * co).mul().add().i32(dwTap).add().set(dwCB);
              coBlocks(CB, cols, dwCB, qB);
            });
            if (ci % CB > 0) {
              f.get(xStart).i32(4 * CB * fullCi).add().set(qB);
              f.get(out).i32(dwTap + 4 * CB * fullCi * co).add().set(dwCB);
              coBlocks(ci % CB, cols, dwCB, qB);
            }
          }
        });
      }
    });
  });
  return assemble([f]);
}
