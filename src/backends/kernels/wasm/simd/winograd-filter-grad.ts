/**
 * Winograd F(3x3, 2x2) for the filter gradient of a stride-1 3x3 convolution:
 *
 *   dW[kh,kw] = sum over 2x2 dy tiles of  G^T [ (A dy A^T) . (B^T x B) ] G
 *
 * (the transpose of F(2x2,3x3): its output transform G^T, dy transformed by A,
 * x by the same B^T on 4x4 patches), so the 16 products per tile and channel
 * pair are summed over all tiles before the one output transform:
 *
 *   Macc[xi][ci][co] = sum_tiles V[xi][tile][ci] * U[xi][tile][co]
 *
 * For each image and chunk of tile rows the generated kernel transforms the x
 * patches (V) and dy tiles (U) into scratch, then accumulates 16 GEMMs with
 * register tiles of 4 input x 8 output channels. The caller zeroes Macc and
 * applies G^T Macc G.
 */
import { ConvGeometry } from '../../conv-geometry';
import { relaxedMaddAvailable } from './relaxed';
import { assemble, Func, Local } from './emit';

/** True for the stride-1 3x3 geometries this kernel handles (even output size, channels in fours, at least 8). */
export function winogradFilterGradApplies(g: ConvGeometry): boolean {
  return g.strideHeight === 1 && g.strideWidth === 1 && g.filterHeight === 3 && g.filterWidth === 3 &&
    g.outHeight % 2 === 0 && g.outWidth % 2 === 0 && g.inChannels % 4 === 0 && g.outChannels % 4 === 0 &&
    g.inChannels >= 8 && g.outChannels >= 8;
}

/** Tile rows per chunk: about 128 KiB of transformed tiles. */
function chunkRows(g: ConvGeometry): number {
  const tw = g.outWidth / 2;
  const perTile = 16 * 4 * (g.inChannels + g.outChannels);
  return Math.max(1, Math.min(g.outHeight / 2, Math.floor(131072 / (perTile * tw))));
}

/**
 * Scratch layout, in floats: V planes, U planes, then Macc. Planes are padded
 * by one cache line: at a 4 KiB stride all 16 would fall in one L1 set
 * (measured 3x slower transforms).
 */
export function winogradFilterGradScratch(g: ConvGeometry): { vPlane: number; uPlane: number; u: number; macc: number; total: number } {
  const tiles = chunkRows(g) * (g.outWidth / 2);
  const vPlane = tiles * g.inChannels + 16;
  const uPlane = tiles * g.outChannels + 16;
  const u = 16 * vPlane;
  const macc = u + 16 * uPlane;
  return { vPlane, uPlane, u, macc, total: macc + 16 * g.inChannels * g.outChannels };
}

/** dW [3,3,Ci,Co] = G^T Macc G, Macc [16][Ci][Co]. */
export function winogradFilterGradOutput(macc: Float32Array, offset: number, ci: number, co: number, dw: Float32Array): void {
  const plane = ci * co;
  for (let e = 0; e < plane; e++) {
    const m = (i: number, j: number) => macc[offset + (i * 4 + j) * plane + e];
    // s = G^T m, G^T = [[1,.5,.5,0],[0,.5,-.5,0],[0,.5,.5,1]], column by column
    const s: number[][] = [[], [], []];
    for (let j = 0; j < 4; j++) {
      const a = m(0, j), b = m(1, j), c = m(2, j), d = m(3, j);
      s[0].push(a + 0.5 * (b + c));
      s[1].push(0.5 * (b - c));
      s[2].push(0.5 * (b + c) + d);
    }
    for (let i = 0; i < 3; i++) {
      const [a, b, c, d] = s[i];
      dw[(i * 3) * plane + e] = a + 0.5 * (b + c);
      dw[(i * 3 + 1) * plane + e] = 0.5 * (b - c);
      dw[(i * 3 + 2) * plane + e] = 0.5 * (b + c) + d;
    }
  }
}

/**
 * Module bytes exporting `out(maccPtr, dwPtr)`: winogradFilterGradOutput as SIMD over
 * four elements of the [Ci, Co] plane at a time (Co % 4 == 0); in JS it took about
 * 1.9 ms per call at 128 channels.
 */
export function winogradFilterGradOutputModule(ci: number, co: number): Uint8Array {
  const f = new Func('out', ['i32', 'i32']);
  const [macc, dw] = f.params;
  const plane = 4 * ci * co;
  const e = f.local('i32');
  const src = f.local('i32');
  const dst = f.local('i32');
  const m = Array.from({ length: 4 }, () => f.local('v128'));
  const s = Array.from({ length: 12 }, () => f.local('v128'));
  const half = f.local('v128');
  f.f32(0.5).f32x4Splat().set(half);
  f.forConst(e, (ci * co) / 4, () => {
    f.get(macc).get(e).i32(16).mul().add().set(src);
    f.get(dw).get(e).i32(16).mul().add().set(dst);
    // s[i][j] = (G^T m)[i][j], column j of m at planes j, 4 + j, 8 + j, 12 + j
    for (let j = 0; j < 4; j++) {
      for (let i = 0; i < 4; i++) f.get(src).v128Load((i * 4 + j) * plane).set(m[i]);
      f.get(m[0]).get(m[1]).get(m[2]).f32x4Add().get(half).f32x4Mul().f32x4Add().set(s[j]);
      f.get(m[1]).get(m[2]).f32x4Sub().get(half).f32x4Mul().set(s[4 + j]);
      f.get(m[1]).get(m[2]).f32x4Add().get(half).f32x4Mul().get(m[3]).f32x4Add().set(s[8 + j]);
    }
    for (let i = 0; i < 3; i++) {
      const [a, b, c, d] = [0, 1, 2, 3].map((j) => s[i * 4 + j]);
      f.get(dst).get(a).get(b).get(c).f32x4Add().get(half).f32x4Mul().f32x4Add().v128Store(i * 3 * plane);
      f.get(dst).get(b).get(c).f32x4Sub().get(half).f32x4Mul().v128Store((i * 3 + 1) * plane);
      f.get(dst).get(b).get(c).f32x4Add().get(half).f32x4Mul().get(d).f32x4Add().v128Store((i * 3 + 2) * plane);
    }
  });
  return assemble([f]);
}

const CB = 4;
const VECS = 2;

/**
 * Module bytes exporting `acc(xPtr, dyPtr, scratchPtr)`: x zero-padded so that
 * the patch of dy tile (a, b) starts at padded row 2a, column 2b.
 */
export function winogradFilterGradModule(g: ConvGeometry, paddedHeight: number, paddedWidth: number): Uint8Array {
  const f = new Func('acc', ['i32', 'i32', 'i32']);
  const fused = relaxedMaddAvailable();
  const [x, dy, scratch] = f.params;
  const Ci = g.inChannels;
  const Co = g.outChannels;
  const TW = g.outWidth / 2;
  const TH = g.outHeight / 2;
  const R = chunkRows(g);
  const layout = winogradFilterGradScratch(g);
  const xRow = 4 * paddedWidth * Ci;
  const dyRow = 4 * g.outWidth * Co;

  const n = f.local('i32');
  const chunk = f.local('i32');
  const rows = f.local('i32');
  const tiles = f.local('i32');
  const r = f.local('i32');
  const tw = f.local('i32');
  const kv = f.local('i32');
  const xi = f.local('i32');
  const src = f.local('i32');
  const dst = f.local('i32');
  const cb = f.local('i32');
  const ob = f.local('i32');
  const vp = f.local('i32');
  const up = f.local('i32');
  const mp = f.local('i32');
  const cnt = f.local('i32');
  const d = Array.from({ length: 4 }, () => f.local('v128'));
  const t = Array.from({ length: 16 }, () => f.local('v128'));
  const acc = Array.from({ length: CB * VECS }, () => f.local('v128'));
  const dv = Array.from({ length: VECS }, () => f.local('v128'));
  const xs = f.local('v128');
  const add = (a: Local, b: Local) => f.get(a).get(b).f32x4Add();
  const sub = (a: Local, b: Local) => f.get(a).get(b).f32x4Sub();

  /** V[xi][tile][kv] = B^T patch B for the x patch at src (channel vector), stored from dst with plane stride. */
  const inputTransform = (planeBytes: number) => {
    for (let j = 0; j < 4; j++) {
      for (let i = 0; i < 4; i++) f.get(src).v128Load(i * xRow + 4 * j * Ci).set(d[i]);
      sub(d[0], d[2]).set(t[j]);
      add(d[1], d[2]).set(t[4 + j]);
      sub(d[2], d[1]).set(t[8 + j]);
      sub(d[1], d[3]).set(t[12 + j]);
    }
    for (let i = 0; i < 4; i++) {
      const row = (j: number) => t[i * 4 + j];
      const store = (j: number, value: () => void) => { f.get(dst); value(); f.v128Store((i * 4 + j) * planeBytes); };
      store(0, () => sub(row(0), row(2)));
      store(1, () => add(row(1), row(2)));
      store(2, () => sub(row(2), row(1)));
      store(3, () => sub(row(1), row(3)));
    }
  };

  /** U[xi][tile][ov] = A e A^T for the 2x2 dy tile at src (channel vector). */
  const dyTransform = (planeBytes: number) => {
    // e00 e01 / e10 e11 -> rows of A e: e0, e0+e1, e0-e1, -e1 (per column)
    f.get(src).v128Load(0).set(d[0]);
    f.get(src).v128Load(4 * Co).set(d[1]);
    f.get(src).v128Load(dyRow).set(d[2]);
    f.get(src).v128Load(dyRow + 4 * Co).set(d[3]);
    // columns 0 and 1 of A e, rows 0..3: p_i = t[i], q_i = t[4 + i]
    f.get(d[0]).set(t[0]);
    add(d[0], d[2]).set(t[1]);
    sub(d[0], d[2]).set(t[2]);
    f.v128Zero().get(d[2]).f32x4Sub().set(t[3]);
    f.get(d[1]).set(t[4]);
    add(d[1], d[3]).set(t[5]);
    sub(d[1], d[3]).set(t[6]);
    f.v128Zero().get(d[3]).f32x4Sub().set(t[7]);
    for (let i = 0; i < 4; i++) {
      const p = t[i];
      const q = t[4 + i];
      const store = (j: number, value: () => void) => { f.get(dst); value(); f.v128Store((i * 4 + j) * planeBytes); };
      store(0, () => f.get(p));
      store(1, () => add(p, q));
      store(2, () => sub(p, q));
      store(3, () => f.v128Zero().get(q).f32x4Sub());
    }
  };

  /** Register tile: CB input channels x nv vectors of output channels over `tiles` tiles. */
  const gemmTile = (nv: number) => {
    for (let a = 0; a < CB; a++) for (let j = 0; j < nv; j++) f.get(mp).v128Load(4 * (a * Co + 4 * j)).set(acc[a * VECS + j]);
    f.get(tiles).set(cnt);
    f.loop(() => {
      for (let j = 0; j < nv; j++) f.get(up).v128Load(16 * j).set(dv[j]);
      for (let a = 0; a < CB; a++) {
        f.get(vp).f32x4LoadSplat(4 * a).set(xs);
        for (let j = 0; j < nv; j++) f.madd(acc[a * VECS + j], xs, dv[j], fused);
      }
      f.inc(vp, 4 * Ci).inc(up, 4 * Co);
      f.get(cnt).i32(1).sub().tee(cnt).brIf(0);
    });
    for (let a = 0; a < CB; a++) for (let j = 0; j < nv; j++) f.get(mp).get(acc[a * VECS + j]).v128Store(4 * (a * Co + 4 * j));
  };

  f.forConst(n, g.batch, () => {
    f.forConst(chunk, Math.ceil(TH / R), () => {
      // rows = min(R, TH - chunk * R); tiles = rows * TW
      f.i32(TH).get(chunk).i32(R).mul().sub().set(rows);
      f.get(rows).i32(R).gtS().ifThen(() => { f.i32(R).set(rows); });
      f.get(rows).i32(TW).mul().set(tiles);
      // transforms of the chunk's tiles
      f.forCount(r, () => f.get(rows), () => {
        f.forConst(tw, TW, () => {
          f.forConst(kv, Ci / 4, () => {
            // x patch of tile row (chunk*R + r), column tw: padded row 2(.), column 2tw
            f.get(x).get(n).i32(4 * paddedHeight * paddedWidth * Ci).mul().add();
            f.get(chunk).i32(R).mul().get(r).add().i32(2 * xRow).mul().add();
            f.get(tw).i32(8 * Ci).mul().add().get(kv).i32(16).mul().add().set(src);
            f.get(scratch).get(r).i32(TW).mul().get(tw).add().i32(4 * Ci).mul().add().get(kv).i32(16).mul().add().set(dst);
            inputTransform(4 * layout.vPlane);
          });
          f.forConst(kv, Co / 4, () => {
            f.get(dy).get(n).i32(4 * g.outHeight * g.outWidth * Co).mul().add();
            f.get(chunk).i32(R).mul().get(r).add().i32(2 * dyRow).mul().add();
            f.get(tw).i32(8 * Co).mul().add().get(kv).i32(16).mul().add().set(src);
            f.get(scratch).i32(4 * layout.u).add().get(r).i32(TW).mul().get(tw).add().i32(4 * Co).mul().add()
              .get(kv).i32(16).mul().add().set(dst);
            dyTransform(4 * layout.uPlane);
          });
        });
      });
      // Macc[xi] += V[xi]^T U[xi]
      f.forConst(xi, 16, () => {
        f.forConst(cb, Ci / CB, () => {
          const blocks = Math.floor(Co / (4 * VECS));
          const rest = (Co % (4 * VECS)) / 4;
          const block = (coByte: () => void, nv: number) => {
            f.get(scratch).get(xi).i32(4 * layout.vPlane).mul().add().get(cb).i32(4 * CB).mul().add().set(vp);
            f.get(scratch).i32(4 * layout.u).add().get(xi).i32(4 * layout.uPlane).mul().add();
            coByte();
            f.add().set(up);
            f.get(scratch).i32(4 * layout.macc).add().get(xi).i32(4 * Ci * Co).mul().add().get(cb).i32(4 * CB * Co).mul().add();
            coByte();
            f.add().set(mp);
            gemmTile(nv);
          };
          f.forConst(ob, blocks, () => block(() => f.get(ob).i32(16 * VECS).mul(), VECS));
          if (rest > 0) block(() => f.i32(16 * VECS * blocks), rest);
        });
      });
    });
  });
  return assemble([f]);
}
