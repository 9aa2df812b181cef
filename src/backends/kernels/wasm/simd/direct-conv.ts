/**
 * Generates a WebAssembly SIMD kernel for a direct convolution (DirectConvSpec
 * in ../../conv-plans) over an input that is already zero-padded. A register tile
 * is P consecutive output pixels x 4*V output channels, accumulated over the
 * taps and input channels.
 */
import { DirectConvSpec } from '../../conv-plans';
import { relaxedMaddAvailable } from './relaxed';
import { assemble, Func, Local } from './emit';


/** Module bytes exporting `conv(inPtr, wPtr, biasPtr, outPtr)` (byte addresses; biasPtr unused without bias). */
export function directConvModule(s: DirectConvSpec): Uint8Array {
  const f = new Func('conv', ['i32', 'i32', 'i32', 'i32']);
  const fused = relaxedMaddAvailable();
  const [input, weights, bias, out] = f.params;
  const K = s.inChannels;
  const M = s.outChannels;
  const T = s.taps.length;
  const P = s.tilePixels ?? 4;
  const V = s.tileVectors ?? 2;
  // Byte offsets of each tap relative to the tile's first input pixel.
  const tapOffset = s.taps.map((t) => 4 * (t.dh * s.inWidth + t.dw) * K);

  const n = f.local('i32');
  const a = f.local('i32');
  const mb = f.local('i32');
  const bt = f.local('i32');
  const wEnd = f.local('i32');
  const inImg = f.local('i32');
  const inRow = f.local('i32');
  const outImg = f.local('i32');
  const outRow = f.local('i32');
  const wBlock = f.local('i32');
  const outBlock = f.local('i32');
  const biasBlock = f.local('i32');
  const px = f.local('i32');
  const wp = f.local('i32');
  const ob = f.local('i32');
  const accs = Array.from({ length: P * V }, () => f.local('v128'));
  const accS = Array.from({ length: P * 3 }, () => f.local('f32'));
  const wv = Array.from({ length: V }, () => f.local('v128'));
  const ws = Array.from({ length: 3 }, () => f.local('f32'));
  const xs = f.local('v128');
  const xf = f.local('f32');

  /**
   * One tile of np pixels x (4*nv + ns) channels, the last vector storing only
   * its first `lastLanes` lanes; px points at the first pixel's input, wp at w[0,0,block].
   */
  const tile = (np: number, nv: number, ns: number, lastLanes = 4) => {
    const acc = (p: number, j: number) => accs[p * V + j];
    const sc = (p: number, j: number) => accS[p * 3 + j];
    for (let p = 0; p < np; p++) {
      for (let j = 0; j < nv; j++) {
        if (s.bias) f.get(biasBlock).v128Load(16 * j).set(acc(p, j));
        else f.v128Zero().set(acc(p, j));
      }
      for (let j = 0; j < ns; j++) {
        if (s.bias) f.get(biasBlock).f32Load(16 * nv + 4 * j).set(sc(p, j));
        else f.f32(0).set(sc(p, j));
      }
    }
    /** The multiply-adds of one tap for one input channel k (wp at w[t, k, block], ob at the tap's input channel k). */
    const tapBody = () => {
      for (let j = 0; j < nv; j++) f.get(wp).v128Load(16 * j).set(wv[j]);
      for (let j = 0; j < ns; j++) f.get(wp).f32Load(4 * (4 * nv + j)).set(ws[j]);
      for (let p = 0; p < np; p++) {
        const off = 4 * p * s.strideWidth * K;
        if (nv > 0) {
          f.get(ob).f32x4LoadSplat(off).set(xs);
          for (let j = 0; j < nv; j++) f.madd(acc(p, j), xs, wv[j], fused);
        }
        if (ns > 0) {
          f.get(ob).f32Load(off).set(xf);
          for (let j = 0; j < ns; j++) f.get(sc(p, j)).get(xf).get(ws[j]).f32Mul().f32Add().set(sc(p, j));
        }
      }
    };
    // One k-loop per tap, running until the weight pointer reaches the tap's end:
    // a small loop body keeps V8's register allocation tight (all taps in one
    // body measured 2.5x slower, unrolling k by 2 1.5x slower).
    for (let t = 0; t < T; t++) {
      f.get(wBlock).i32(4 * t * K * M).add().set(wp);
      f.get(wp).i32(4 * K * M).add().set(wEnd);
      f.get(px).i32(tapOffset[t]).add().set(ob);
      f.loop(() => {
        tapBody();
        f.inc(ob, 4).inc(wp, 4 * M);
        f.get(wp).get(wEnd).ltU().brIf(0);
      });
    }
    for (let p = 0; p < np; p++) {
      for (let j = 0; j < nv; j++) {
        const offset = 4 * p * s.outColStride + 16 * j;
        f.get(outBlock).get(acc(p, j));
        if (s.relu) f.v128Zero().f32x4Max();
        if (j === nv - 1 && lastLanes < 4) {
          f.get(outBlock).v128Load(offset).v128LaneMask(lastLanes).v128Bitselect();
        }
        f.v128Store(offset);
      }
      for (let j = 0; j < ns; j++) {
        f.get(outBlock).get(sc(p, j));
        if (s.relu) {
          // max(v, 0) for a scalar via the vector max on lane 0
          f.f32x4Splat().v128Zero().f32x4Max().f32x4ExtractLane(0);
        }
        f.f32Store(4 * p * s.outColStride + 16 * nv + 4 * j);
      }
    }
  };

  /** Sweeps the row's pixels for one channel block of (4*nv + ns) channels at channel offset c0. */
  const rowSweep = (c0: number | Local, nv: number, ns: number, lastLanes = 4) => {
    const setBlockPtrs = () => {
      // wBlock = weights + 4*c0, biasBlock = bias + 4*c0
      if (typeof c0 === 'number') {
        f.get(weights).i32(4 * c0).add().set(wBlock);
        f.get(bias).i32(4 * c0).add().set(biasBlock);
      } else {
        f.get(weights).get(c0).add().set(wBlock);
        f.get(bias).get(c0).add().set(biasBlock);
      }
    };
    setBlockPtrs();
    const fullTiles = Math.floor(s.outCols / P);
    const restPixels = s.outCols % P;
    const outPtr = () => {
      if (typeof c0 === 'number') f.get(outRow).i32(4 * c0).add();
      else f.get(outRow).get(c0).add();
    };
    f.forConst(bt, fullTiles, () => {
      f.get(inRow).get(bt).i32(4 * P * s.strideWidth * K).mul().add().set(px);
      outPtr();
      f.get(bt).i32(4 * P * s.outColStride).mul().add().set(outBlock);
      tile(P, nv, ns, lastLanes);
    });
    if (restPixels > 0) {
      f.get(inRow).i32(4 * fullTiles * P * s.strideWidth * K).add().set(px);
      outPtr();
      f.i32(4 * fullTiles * P * s.outColStride).add().set(outBlock);
      tile(restPixels, nv, ns, lastLanes);
    }
  };

  f.forConst(n, s.batch, () => {
    f.get(input).get(n).i32(4 * s.inHeight * s.inWidth * K).mul().add().set(inImg);
    f.get(out).get(n).i32(4 * s.outImageStride).mul().add().set(outImg);
    f.forConst(a, s.outRows, () => {
      f.get(inImg).get(a).i32(4 * s.strideHeight * s.inWidth * K).mul().add().set(inRow);
      f.get(outImg).get(a).i32(4 * s.outRowStride).mul().add().set(outRow);
      const fullBlocks = Math.floor(M / (4 * V));
      const cb = f.local('i32');
      f.forConst(mb, fullBlocks, () => {
        f.get(mb).i32(16 * V).mul().set(cb);
        rowSweep(cb, V, 0);
      });
      const c0 = fullBlocks * 4 * V;
      const rest = M - c0;
      if (rest > 0 && s.maskedTail === true) {
        rowSweep(c0, Math.ceil(rest / 4), 0, rest % 4 === 0 ? 4 : rest % 4);
      } else {
        for (let c = c0; c < M; c += 12) {
          // at most three scalars per tile keep the register count low
          const part = Math.min(M - c, 12);
          rowSweep(c, Math.floor(part / 4), part % 4);
        }
      }
    });
  });
  return assemble([f]);
}
