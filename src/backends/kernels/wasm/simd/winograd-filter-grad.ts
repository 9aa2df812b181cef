/**
 * Winograd for the filter gradient of a stride-1 3x3, 1x3 or 3x1 convolution, the
 * transpose of the forward tile F(mr x mc, kh x kw) (winograd.ts):
 *
 *   dW = sum over mr x mc dy tiles of  Gr^T [ (Ar dy Ac^T) . (Br^T x Bc) ] Gc
 *
 * (its output transform G^T, dy transformed by A, x by the same B^T on nr x nc
 * patches), so the nr nc products per tile and channel pair are summed over all tiles
 * before the one output transform:
 *
 *   Macc[xi][ci][co] = sum_tiles V[xi][tile][ci] * U[xi][tile][co]
 *
 * 16 products per 2x2 tile instead of 36 for 3x3 (F(2x2,3x3): the F(4x4) transpose's
 * constants would reach 64 and 1/576 in a sum over every tile), 6 per 4 outputs
 * instead of 12 for 1x3 (F(1x4,1x3)). For each image and chunk of tile rows the
 * generated kernel transforms the x patches (V) and dy tiles (U) into scratch, then
 * accumulates one GEMM per plane with register tiles of 4 input x 8 output channels.
 * The caller zeroes Macc and applies Gr^T Macc Gc.
 */
import { ConvGeometry } from '../../conv-geometry';
import { relaxedMaddAvailable } from './relaxed';
import { assemble, Func } from './emit';
import { combiner, F2, kernelTile, points, tilePlanes, WinogradTile } from './winograd';

/**
 * The tile for the stride-1 geometries this kernel handles (channels in fours, at
 * least 8; winograd.ts's kernelTile, F(2x2) at most for 3x3), else null.
 */
export function winogradFilterGradTile(g: ConvGeometry): WinogradTile | null {
  if (g.strideHeight !== 1 || g.strideWidth !== 1) return null;
  if (g.inChannels % 4 !== 0 || g.outChannels % 4 !== 0 || g.inChannels < 8 || g.outChannels < 8) return null;
  const square = g.filterHeight === 3 && g.filterWidth === 3;
  return kernelTile(g.filterHeight, g.filterWidth, g.outHeight, g.outWidth, square ? F2 : undefined);
}

/** Tile rows per chunk: about 128 KiB of transformed tiles. */
function chunkRows(g: ConvGeometry, tile: WinogradTile): number {
  const tw = g.outWidth / tile.cols.m;
  const perTile = tilePlanes(tile) * 4 * (g.inChannels + g.outChannels);
  return Math.max(1, Math.min(g.outHeight / tile.rows.m, Math.floor(131072 / (perTile * tw))));
}

/**
 * Scratch layout, in floats: V planes, U planes, then Macc. Planes are padded
 * by one cache line: at a 4 KiB stride all 16 would fall in one L1 set
 * (measured 3x slower transforms).
 */
export function winogradFilterGradScratch(g: ConvGeometry, tile: WinogradTile): { vPlane: number; uPlane: number; u: number; macc: number; total: number } {
  const planes = tilePlanes(tile);
  const tiles = chunkRows(g, tile) * (g.outWidth / tile.cols.m);
  const vPlane = tiles * g.inChannels + 16;
  const uPlane = tiles * g.outChannels + 16;
  const u = planes * vPlane;
  const macc = u + planes * uPlane;
  return { vPlane, uPlane, u, macc, total: macc + planes * g.inChannels * g.outChannels };
}

/** Column `i` of a matrix: the coefficients of the transposed transform's row i. */
const column = (m: number[][], i: number): number[] => m.map((row) => row[i]);

/**
 * Module bytes exporting `out(maccPtr, dwPtr)`: dW [kh,kw,Ci,Co] = Gr^T Macc Gc,
 * Macc [nr*nc][Ci][Co], as SIMD over four elements of the [Ci, Co] plane at a time
 * (Co % 4 == 0); in JS it took about 1.9 ms per call at 128 channels.
 */
export function winogradFilterGradOutputModule(ci: number, co: number, tile: WinogradTile): Uint8Array {
  const f = new Func('out', ['i32', 'i32']);
  const [macc, dw] = f.params;
  const { rows, cols } = tile;
  const nr = points(rows);
  const nc = points(cols);
  const plane = 4 * ci * co;
  const e = f.local('i32');
  const src = f.local('i32');
  const dst = f.local('i32');
  const m = Array.from({ length: nr }, () => f.local('v128'));
  const s = Array.from({ length: rows.r * nc }, () => f.local('v128'));
  const combo = combiner(f, [rows.G, cols.G]);
  f.forConst(e, (ci * co) / 4, () => {
    f.get(macc).get(e).i32(16).mul().add().set(src);
    f.get(dw).get(e).i32(16).mul().add().set(dst);
    // s[i][j] = (Gr^T Macc)[i][j], column j of Macc at planes l*nc + j
    for (let j = 0; j < nc; j++) {
      for (let l = 0; l < nr; l++) f.get(src).v128Load((l * nc + j) * plane).set(m[l]);
      for (let i = 0; i < rows.r; i++) { combo(column(rows.G, i), (l) => f.get(m[l])); f.set(s[i * nc + j]); }
    }
    // dW[i][j] = (s Gc)[i][j]
    for (let i = 0; i < rows.r; i++) {
      for (let j = 0; j < cols.r; j++) {
        f.get(dst);
        combo(column(cols.G, j), (l) => f.get(s[i * nc + l]));
        f.v128Store((i * cols.r + j) * plane);
      }
    }
  });
  return assemble([f]);
}

const CB = 4;
const VECS = 2;

/**
 * Module bytes exporting `acc(xPtr, dyPtr, scratchPtr)`: x zero-padded so that
 * the patch of dy tile (a, b) starts at padded row mr a, column mc b.
 */
export function winogradFilterGradModule(g: ConvGeometry, tile: WinogradTile, paddedHeight: number, paddedWidth: number): Uint8Array {
  const f = new Func('acc', ['i32', 'i32', 'i32']);
  const fused = relaxedMaddAvailable();
  const [x, dy, scratch] = f.params;
  const { rows: tr, cols: tc } = tile;
  const mr = tr.m;
  const mc = tc.m;
  const nr = points(tr);
  const nc = points(tc);
  const planes = nr * nc;
  const Ci = g.inChannels;
  const Co = g.outChannels;
  const TW = g.outWidth / mc;
  const TH = g.outHeight / mr;
  const R = chunkRows(g, tile);
  const layout = winogradFilterGradScratch(g, tile);
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
  const d = Array.from({ length: nr }, () => f.local('v128'));
  const t = Array.from({ length: planes }, () => f.local('v128'));
  const acc = Array.from({ length: CB * VECS }, () => f.local('v128'));
  const dv = Array.from({ length: VECS }, () => f.local('v128'));
  const xs = f.local('v128');
  const combo = combiner(f, [tr.BT, tc.BT, tr.AT, tc.AT]);

  /** V[xi][tile][kv] = Br^T patch Bc for the x patch at src (channel vector), stored from dst with plane stride. */
  const inputTransform = (planeBytes: number) => {
    for (let j = 0; j < nc; j++) {
      for (let i = 0; i < nr; i++) f.get(src).v128Load(i * xRow + 4 * j * Ci).set(d[i]);
      for (let i = 0; i < nr; i++) { combo(tr.BT[i], (l) => f.get(d[l])); f.set(t[i * nc + j]); }
    }
    for (let i = 0; i < nr; i++) {
      for (let j = 0; j < nc; j++) {
        f.get(dst);
        combo(tc.BT[j], (l) => f.get(t[i * nc + l]));
        f.v128Store((i * nc + j) * planeBytes);
      }
    }
  };

  /** U[xi][tile][ov] = Ar e Ac^T for the mr x mc dy tile e at src (channel vector). */
  const dyTransform = (planeBytes: number) => {
    // columns: t[i][j] = Σ_l Ar^T[l][i] e[l][j]
    for (let j = 0; j < mc; j++) {
      for (let l = 0; l < mr; l++) f.get(src).v128Load(l * dyRow + 4 * j * Co).set(d[l]);
      for (let i = 0; i < nr; i++) { combo(column(tr.AT, i), (l) => f.get(d[l])); f.set(t[i * nc + j]); }
    }
    // rows: U[i][j] = Σ_l t[i][l] Ac^T[l][j]
    for (let i = 0; i < nr; i++) {
      for (let j = 0; j < nc; j++) {
        f.get(dst);
        combo(column(tc.AT, j), (l) => f.get(t[i * nc + l]));
        f.v128Store((i * nc + j) * planeBytes);
      }
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
            // x patch of tile row (chunk*R + r), column tw: padded row mr(.), column mc tw
            f.get(x).get(n).i32(4 * paddedHeight * paddedWidth * Ci).mul().add();
            f.get(chunk).i32(R).mul().get(r).add().i32(mr * xRow).mul().add();
            f.get(tw).i32(4 * mc * Ci).mul().add().get(kv).i32(16).mul().add().set(src);
            f.get(scratch).get(r).i32(TW).mul().get(tw).add().i32(4 * Ci).mul().add().get(kv).i32(16).mul().add().set(dst);
            inputTransform(4 * layout.vPlane);
          });
          f.forConst(kv, Co / 4, () => {
            f.get(dy).get(n).i32(4 * g.outHeight * g.outWidth * Co).mul().add();
            f.get(chunk).i32(R).mul().get(r).add().i32(mr * dyRow).mul().add();
            f.get(tw).i32(4 * mc * Co).mul().add().get(kv).i32(16).mul().add().set(src);
            f.get(scratch).i32(4 * layout.u).add().get(r).i32(TW).mul().get(tw).add().i32(4 * Co).mul().add()
              .get(kv).i32(16).mul().add().set(dst);
            dyTransform(4 * layout.uPlane);
          });
        });
      });
      // Macc[xi] += V[xi]^T U[xi]
      f.forConst(xi, planes, () => {
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
