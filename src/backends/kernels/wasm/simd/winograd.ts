/**
 * Winograd F(mr x mc, kh x kw) for the stride-1 direct convolutions with a 3x3, 1x3
 * or 3x1 kernel (forward, and the input gradient of a stride-1 layer), one 1-D
 * transform per axis: F(m, 3) (m = 2 or 4) along an axis the kernel spans, the
 * trivial F(1, 1) along one it does not. Each mr x mc output tile is
 *
 *   Y = Ar^T [ sum_k (Gr g Gc^T)[k] * (Br^T d Bc)[k] ] Ac      (d: the nr x nc input tile)
 *
 * which needs nr nc multiplies per tile and channel pair (n = m + kernel - 1) instead
 * of kh kw mr mc: 16 instead of 36 for F(2x2,3x3), 36 instead of 144 for F(4x4,3x3)
 * (less exact: its transforms have constants up to 8 and 1/24), 6 instead of 12 for
 * F(1x4,1x3) (a conv1d). For each chunk of tile rows (of all images in turn:
 * rowsPerChunk), the generated kernel transforms the input tiles into nr nc planes
 * V[xi][tile][k] (scratch), runs one small GEMM M[xi] = V[xi] . U[xi] per plane with
 * U = Gr g Gc^T (winogradWeightsModule), then applies the output transform (with
 * bias and relu).
 */
import { DirectConvSpec } from '../../conv-plans';
import { relaxedMaddAvailable } from './relaxed';
import { assemble, Func, Local } from './emit';

/** One axis of a tile, F(m, r): B^T (n x n), G (n x r), A^T (m x n), n = m + r - 1. */
export interface AxisTile {
  m: 1 | 2 | 4;
  r: 1 | 3;
  BT: number[][];
  G: number[][];
  AT: number[][];
}

export const F2: AxisTile = {
  m: 2,
  r: 3,
  BT: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
  G: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
  AT: [[1, 1, 1, 0], [0, 1, -1, -1]],
};

/** Lavin and Gray (2016)'s F(4, 3). */
export const F4: AxisTile = {
  m: 4,
  r: 3,
  BT: [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
  G: [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
  AT: [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
};

/** F(1, 1): the axis of a 1 x 3 (or 3 x 1) kernel that it does not span. */
export const POINT: AxisTile = { m: 1, r: 1, BT: [[1]], G: [[1]], AT: [[1]] };

/** The tile of a layer: one F(m, r) for its rows, one for its columns. */
export interface WinogradTile {
  rows: AxisTile;
  cols: AxisTile;
}

/** n = m + r - 1: input points of a tile along the axis. */
export const points = (a: AxisTile): number => a.m + a.r - 1;

/** Transformed planes of a tile: nr x nc. */
export const tilePlanes = (t: WinogradTile): number => points(t.rows) * points(t.cols);

/** Names the tile in kernel cache keys. */
export const tileName = (t: WinogradTile): string => `F(${t.rows.m}x${t.cols.m},${t.rows.r}x${t.cols.r})`;

/** Height and width of the grid the spec's taps span. */
function tapExtent(s: DirectConvSpec): { dh: number; dw: number; height: number; width: number } {
  const dh = Math.min(...s.taps.map((t) => t.dh));
  const dw = Math.min(...s.taps.map((t) => t.dw));
  return {
    dh,
    dw,
    height: Math.max(...s.taps.map((t) => t.dh)) - dh + 1,
    width: Math.max(...s.taps.map((t) => t.dw)) - dw + 1,
  };
}

/**
 * The tile for a 3x3, 1x3 or 3x1 kernel: along every axis the kernel spans, F(4, 3)
 * where all those outputs are multiples of 4 and at least 8 (unless `largest` is F2;
 * MTL_WINOGRAD=2 keeps F(2, 3) everywhere), else F(2, 3) where they are all even;
 * F(1, 1) along an axis of kernel size 1. Null where none of these fits.
 */
export function kernelTile(
  kernelHeight: number, kernelWidth: number, outRows: number, outCols: number, largest: AxisTile = F4,
): WinogradTile | null {
  const spans = [[kernelHeight, outRows], [kernelWidth, outCols]];
  if (spans.some(([k]) => k !== 1 && k !== 3) || (kernelHeight === 1 && kernelWidth === 1)) return null;
  const outs = spans.filter(([k]) => k === 3).map(([, o]) => o);
  const four = largest === F4 && process.env.MTL_WINOGRAD !== '2' && outs.every((o) => o % 4 === 0 && o >= 8);
  const spanned = four ? F4 : outs.every((o) => o % 2 === 0) ? F2 : null;
  if (spanned === null) return null;
  return { rows: kernelHeight === 3 ? spanned : POINT, cols: kernelWidth === 3 ? spanned : POINT };
}

/** kernelTile for the grid the spec's taps span. */
export function winogradTile(s: DirectConvSpec): WinogradTile | null {
  if (s.taps.length === 0) return null;
  const { height, width } = tapExtent(s);
  return kernelTile(height, width, s.outRows, s.outCols);
}

/**
 * Emits Σ_l c[l]·term(l) for one f32x4 value on the stack: ±1 as add/sub, other
 * coefficients multiplied by constants splatted once, where the combiner is made
 * (before any loop), for every coefficient of `matrices`.
 */
export function combiner(f: Func, matrices: number[][][]): (c: number[], term: (l: number) => void) => void {
  const constants = new Map<number, Local>();
  for (const v of matrices.flat(2).map(Math.abs)) {
    if (v === 0 || v === 1 || constants.has(v)) continue;
    const l = f.local('v128');
    f.f32(v).f32x4Splat().set(l);
    constants.set(v, l);
  }
  const constant = (v: number): Local => constants.get(v) as Local;
  return (c, term) => {
    let first = true;
    c.forEach((v, l) => {
      if (v === 0) return;
      const scale = Math.abs(v) === 1 ? undefined : constant(Math.abs(v));
      if (first && v < 0) f.v128Zero();
      term(l);
      if (scale) f.get(scale).f32x4Mul();
      if (!first || v < 0) v > 0 ? f.f32x4Add() : f.f32x4Sub();
      first = false;
    });
    if (first) f.v128Zero();
  };
}

/**
 * For a stride-1 convolution whose taps form a full grid that winogradTile has a tile
 * for, with channels in fours (at least 8) and a contiguous output: the tap index at
 * each grid position (row-major over the kernel's height x width); otherwise null.
 */
export function winogradTaps(s: DirectConvSpec): number[] | null {
  const M = s.outChannels;
  const shapeOk = s.strideHeight === 1 && s.strideWidth === 1 && winogradTile(s) !== null &&
    s.inChannels % 4 === 0 && M % 4 === 0 && s.inChannels >= 8 && M >= 8 &&
    s.outColStride === M && s.outRowStride === s.outCols * M && s.outImageStride === s.outRows * s.outCols * M;
  if (!shapeOk) return null;
  const { dh, dw, height, width } = tapExtent(s);
  const grid = new Array<number>(height * width).fill(-1);
  s.taps.forEach((t, i) => { grid[(t.dh - dh) * width + (t.dw - dw)] = i; });
  return s.taps.length === grid.length && grid.every((i) => i >= 0) ? grid : null;
}

/**
 * Tile rows transformed and multiplied together: rows of all images in turn, about 64
 * tiles (a divisor of batch x tile rows). One tile row at a time reloaded all of U
 * (16 K M floats, 1 MB at 128 channels) for every 2 output rows of every image, for
 * as few as 1-4 tiles on the small images of a ResNet-50's later stages.
 */
export function rowsPerChunk(s: DirectConvSpec, tile: WinogradTile): number {
  const rows = s.batch * (s.outRows / tile.rows.m);
  const tw = s.outCols / tile.cols.m;
  const bytesPerRow = 4 * tilePlanes(tile) * tw * (s.inChannels + s.outChannels);
  const target = Math.max(1, Math.min(rows, Math.ceil(64 / tw), Math.floor((1536 * 1024) / bytesPerRow)));
  let g = target;
  while (rows % g !== 0) g--;
  return g;
}

/**
 * Scratch planes, in floats: V [planes][tiles][K] then M [planes][tiles][M], each plane
 * padded by one cache line so that the planes do not share L1 sets.
 */
function planes(s: DirectConvSpec, tile: WinogradTile): { v: number; m: number } {
  const tiles = rowsPerChunk(s, tile) * (s.outCols / tile.cols.m);
  return { v: tiles * s.inChannels + 16, m: tiles * s.outChannels + 16 };
}

/** Floats of scratch the kernel needs. */
export function winogradScratch(s: DirectConvSpec, tile: WinogradTile): number {
  const p = planes(s, tile);
  return tilePlanes(tile) * (p.v + p.m);
}

/**
 * Module bytes exporting `wt(wPtr, uPtr)`: U = Gr g Gc^T as SIMD over groups of four
 * output channels (M % 4 == 0), w at wPtr laid out [taps][K][M] (taps indexed through
 * `grid`, row-major over the kernel), U at uPtr [nr*nc][K][M]. In JS the transform took
 * 1-2 ms per call for 64-128 channels (twice a layer per step: forward and input
 * gradient), more than the products at 8x8. `rowCount` input channels from wPtr and uPtr
 * (a thread's share of the K; the planes and taps still K x M apart).
 */
export function winogradWeightsModule(K: number, M: number, grid: number[], tile: WinogradTile, rowCount = K): Uint8Array {
  const f = new Func('wt', ['i32', 'i32']);
  const [w, u] = f.params;
  const { rows, cols } = tile;
  const nr = points(rows);
  const nc = points(cols);
  const kh = rows.r;
  const kw = cols.r;
  const k = f.local('i32');
  const mv = f.local('i32');
  const src = f.local('i32');
  const dst = f.local('i32');
  const g = Array.from({ length: kh * kw }, () => f.local('v128'));
  const t = Array.from({ length: nr * kw }, () => f.local('v128'));
  const combo = combiner(f, [rows.G, cols.G]);
  const km = 4 * K * M;
  f.forConst(k, rowCount, () => {
    f.forConst(mv, M / 4, () => {
      f.get(w).get(k).i32(4 * M).mul().add().get(mv).i32(16).mul().add().set(src);
      f.get(u).get(k).i32(4 * M).mul().add().get(mv).i32(16).mul().add().set(dst);
      for (let i = 0; i < kh * kw; i++) f.get(src).v128Load(grid[i] * km).set(g[i]);
      // (Gr g)[i][j] = Σ_l Gr[i][l] g[l][j]
      for (let i = 0; i < nr; i++) for (let j = 0; j < kw; j++) { combo(rows.G[i], (l) => f.get(g[l * kw + j])); f.set(t[i * kw + j]); }
      // U[i][j] = Σ_l (Gr g)[i][l] Gc[j][l]
      for (let i = 0; i < nr; i++) {
        for (let j = 0; j < nc; j++) {
          f.get(dst);
          combo(cols.G[j], (l) => f.get(t[i * kw + l]));
          f.v128Store((i * nc + j) * km);
        }
      }
    });
  });
  return assemble([f]);
}

/** Register tile of the GEMMs: tiles x f32x4 vectors of output channels. */
const P = 4;
const V = 2;

/** Module bytes exporting `wino(inPtr, uPtr, biasPtr, outPtr, scratchPtr)`. */
export function winogradModule(s: DirectConvSpec, tile: WinogradTile): Uint8Array {
  const f = new Func('wino', ['i32', 'i32', 'i32', 'i32', 'i32']);
  const fused = relaxedMaddAvailable();
  const [input, u, bias, out, scratch] = f.params;
  const { rows, cols } = tile;
  const mr = rows.m;
  const mc = cols.m;
  const nr = points(rows);
  const nc = points(cols);
  const planeCount = nr * nc;
  const K = s.inChannels;
  const M = s.outChannels;
  const TW = s.outCols / mc;
  const TH = s.outRows / mr;
  const { dh, dw } = tapExtent(s);
  const inRowBytes = 4 * s.inWidth * K;
  const plane = planes(s, tile);
  const vBase = 0;
  const mBase = 4 * planeCount * plane.v;

  const G = rowsPerChunk(s, tile);
  const chunk = f.local('i32');
  const row = f.local('i32');
  const q = f.local('i32');
  const img = f.local('i32');
  const tr = f.local('i32');
  const tw = f.local('i32');
  const kv = f.local('i32');
  const xi = f.local('i32');
  const inTile = f.local('i32');
  const vp = f.local('i32');
  const mp = f.local('i32');
  const up = f.local('i32');
  const uEnd = f.local('i32');
  const a = f.local('i32');
  const outRow = f.local('i32');
  const d = Array.from({ length: nr }, () => f.local('v128'));
  const t = Array.from({ length: nr * nc }, () => f.local('v128'));
  const acc = Array.from({ length: P * V }, () => f.local('v128'));
  const wv = Array.from({ length: V }, () => f.local('v128'));
  const xs = f.local('v128');
  const combo = combiner(f, [rows.BT, cols.BT, rows.AT, cols.AT]);

  /** Input transform of tile tw (inTile = its top-left input pixel, channel vector kv) into V planes. */
  const inputTransform = () => {
    // columns: t[i][j] = (Br^T d)[i][j]
    for (let j = 0; j < nc; j++) {
      for (let i = 0; i < nr; i++) f.get(inTile).v128Load(i * inRowBytes + 4 * j * K).set(d[i]);
      for (let i = 0; i < nr; i++) {
        combo(rows.BT[i], (l) => f.get(d[l]));
        f.set(t[i * nc + j]);
      }
    }
    // rows: V[i][j] = (t Bc)[i][j] = Σ_l t[i][l] Bc^T[j][l], stored at scratch + V[(i*nc+j)][tw][kv]
    for (let i = 0; i < nr; i++) {
      for (let j = 0; j < nc; j++) {
        f.get(vp);
        combo(cols.BT[j], (l) => f.get(t[i * nc + l]));
        f.v128Store(4 * (i * nc + j) * plane.v);
      }
    }
  };

  /** GEMM tile: np tiles x nv vectors at (xi, tw, m-block); vp at V[xi][tw][0], mp at M[xi][tw][m], up at U[xi][0][m]. */
  const gemmTile = (np: number, nv: number) => {
    for (let p = 0; p < np; p++) for (let j = 0; j < nv; j++) f.v128Zero().set(acc[p * V + j]);
    f.get(up).i32(4 * K * M).add().set(uEnd);
    f.loop(() => {
      for (let j = 0; j < nv; j++) f.get(up).v128Load(16 * j).set(wv[j]);
      for (let p = 0; p < np; p++) {
        f.get(vp).f32x4LoadSplat(4 * p * K).set(xs);
        for (let j = 0; j < nv; j++) f.madd(acc[p * V + j], xs, wv[j], fused);
      }
      f.inc(vp, 4).inc(up, 4 * M);
      f.get(up).get(uEnd).ltU().brIf(0);
    });
    for (let p = 0; p < np; p++) for (let j = 0; j < nv; j++) f.get(mp).get(acc[p * V + j]).v128Store(4 * p * M + 16 * j);
  };

  /** Output transform of tile tw, channel vector at byte offset a: M planes -> mr x mc outputs. */
  const outputTransform = () => {
    // columns: t[i][j] = Σ_l Ar^T[i][l] M[l][j], M[l][j] = M[l*nc+j][tw][a]
    for (let j = 0; j < nc; j++) {
      for (let l = 0; l < nr; l++) f.get(mp).v128Load(4 * (l * nc + j) * plane.m).set(d[l]);
      for (let i = 0; i < mr; i++) {
        combo(rows.AT[i], (l) => f.get(d[l]));
        f.set(t[i * nc + j]);
      }
    }
    const b = xs;
    if (s.bias) f.get(bias).get(a).add().v128Load().set(b);
    for (let r = 0; r < mr; r++) {
      for (let c = 0; c < mc; c++) {
        f.get(outRow).i32(4 * (r * s.outCols + c) * M).add();
        combo(cols.AT[c], (l) => f.get(t[r * nc + l]));
        if (s.bias) f.get(b).f32x4Add();
        if (s.relu) f.v128Zero().f32x4Max();
        f.v128Store();
      }
    }
  };

  /** img and tr of tile row `row` of the chunk. */
  const rowOf = () => {
    f.get(chunk).i32(G).mul().get(row).add().tee(q).i32(TH).divU().set(img);
    f.get(q).get(img).i32(TH).mul().sub().set(tr);
  };
  f.forConst(chunk, (s.batch * TH) / G, () => {
    // input transform of every tile of the chunk's tile rows
    f.forConst(row, G, () => {
      rowOf();
      f.forConst(tw, TW, () => {
        f.forConst(kv, K / 4, () => {
          // inTile = input + img*image + (mr*tr + dh)*row + (mc*tw + dw)*K*4 + kv*16
          f.get(input).get(img).i32(4 * s.inHeight * s.inWidth * K).mul().add();
          f.get(tr).i32(mr * inRowBytes).mul().add().i32(dh * inRowBytes + 4 * dw * K).add();
          f.get(tw).i32(4 * mc * K).mul().add().get(kv).i32(16).mul().add().set(inTile);
          f.get(scratch).i32(vBase).add().get(row).i32(4 * K * TW).mul().add().get(tw).i32(4 * K).mul().add().get(kv).i32(16).mul().add().set(vp);
          inputTransform();
        });
      });
    });
    // one GEMM per plane over the chunk's tiles
    f.forConst(xi, planeCount, () => {
      const mBlocks = Math.floor(M / (4 * V));
      const rest = (M % (4 * V)) / 4;
      const sweep = (m0: () => void, nv: number) => {
        const fullTiles = Math.floor((G * TW) / P);
        const tiles = (first: () => void, np: number) => {
          // vp = V[xi][first][0], mp = M[xi][first][m0], up = U[xi][0][m0]
          f.get(scratch).i32(vBase).add().get(xi).i32(4 * plane.v).mul().add();
          first();
          f.i32(4 * K).mul().add().set(vp);
          f.get(scratch).i32(mBase).add().get(xi).i32(4 * plane.m).mul().add();
          first();
          f.i32(4 * M).mul().add();
          m0();
          f.add().set(mp);
          f.get(u).get(xi).i32(4 * K * M).mul().add();
          m0();
          f.add().set(up);
          gemmTile(np, nv);
        };
        const g = f.local('i32');
        f.forConst(g, fullTiles, () => tiles(() => f.get(g).i32(P).mul(), P));
        if ((G * TW) % P > 0) tiles(() => f.i32(fullTiles * P), (G * TW) % P);
      };
      const mb = f.local('i32');
      f.forConst(mb, mBlocks, () => sweep(() => f.get(mb).i32(16 * V).mul(), V));
      if (rest > 0) sweep(() => f.i32(16 * V * mBlocks), rest);
    });
    // output transform
    f.forConst(row, G, () => {
      rowOf();
      f.forConst(tw, TW, () => {
        f.forConst(kv, M / 4, () => {
          f.get(kv).i32(16).mul().set(a);
          f.get(scratch).i32(mBase).add().get(row).i32(4 * M * TW).mul().add().get(tw).i32(4 * M).mul().add().get(a).add().set(mp);
          f.get(out).get(img).i32(4 * s.outImageStride).mul().add();
          f.get(tr).i32(4 * mr * s.outCols * M).mul().add().get(tw).i32(4 * mc * M).mul().add().get(a).add().set(outRow);
          outputTransform();
        });
      });
    });
  });
  return assemble([f]);
}
