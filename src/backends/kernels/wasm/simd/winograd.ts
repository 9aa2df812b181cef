/**
 * Winograd F(m x m, 3x3), m = 2 or 4, for the stride-1 3x3 direct convolutions
 * (forward, and the input gradient of a stride-1 layer): each m x m output tile is
 *
 *   Y = A^T [ sum_k (G g G^T)[k] * (B^T d B)[k] ] A      (d: the (m+2) x (m+2) input tile)
 *
 * which needs (m+2)^2 multiplies per tile and channel pair instead of 9 m^2: 16
 * instead of 36 for F(2x2), 36 instead of 144 for F(4x4) (less exact: its transforms
 * have constants up to 8 and 1/24). For each chunk of tile rows (of all images in
 * turn: rowsPerChunk), the generated kernel transforms the input tiles into (m+2)^2
 * planes V[xi][tile][k] (scratch), runs one small GEMM M[xi] = V[xi] . U[xi] per plane
 * with U = G g G^T (winogradWeightsModule), then applies the output transform (with
 * bias and relu).
 */
import { DirectConvSpec } from '../../conv-plans';
import { relaxedMaddAvailable } from './relaxed';
import { assemble, Func, Local } from './emit';

/** The transforms of F(m x m, 3x3): B^T (n x n), G (n x 3), A^T (m x n), n = m + 2. */
export interface WinogradTile {
  m: 2 | 4;
  BT: number[][];
  G: number[][];
  AT: number[][];
}

export const F2: WinogradTile = {
  m: 2,
  BT: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
  G: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
  AT: [[1, 1, 1, 0], [0, 1, -1, -1]],
};

/** Lavin and Gray (2016)'s F(4x4, 3x3). */
export const F4: WinogradTile = {
  m: 4,
  BT: [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
  G: [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
  AT: [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
};

/**
 * The tile for a layer: F(4x4) where the output's height and width are multiples of 4
 * and at least 8 (MTL_WINOGRAD=2 keeps F(2x2) everywhere), else F(2x2).
 */
export function winogradTile(s: DirectConvSpec): WinogradTile {
  const four = process.env.MTL_WINOGRAD !== '2' && s.outRows % 4 === 0 && s.outCols % 4 === 0 && s.outRows >= 8 && s.outCols >= 8;
  return four ? F4 : F2;
}

/**
 * Emits Σ_l c[l]·term(l) for one f32x4 value on the stack: ±1 as add/sub, other
 * coefficients multiplied by constants splatted once, where the combiner is made
 * (before any loop), for every coefficient of `matrices`.
 */
function combiner(f: Func, matrices: number[][][]): (c: number[], term: (l: number) => void) => void {
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
 * For a stride-1 convolution whose 9 taps form a 3x3 grid, with an even output
 * size, channels in fours and a contiguous output: the tap index at each grid
 * position (row-major); otherwise null.
 */
export function winogradTaps(s: DirectConvSpec): number[] | null {
  const M = s.outChannels;
  const shapeOk = s.strideHeight === 1 && s.strideWidth === 1 && s.taps.length === 9 &&
    s.outRows % 2 === 0 && s.outCols % 2 === 0 && s.inChannels % 4 === 0 && M % 4 === 0 && s.inChannels >= 8 && M >= 8 &&
    s.outColStride === M && s.outRowStride === s.outCols * M && s.outImageStride === s.outRows * s.outCols * M;
  if (!shapeOk) return null;
  const dh = Math.min(...s.taps.map((t) => t.dh));
  const dw = Math.min(...s.taps.map((t) => t.dw));
  const grid = new Array<number>(9).fill(-1);
  s.taps.forEach((t, i) => {
    const r = t.dh - dh;
    const c = t.dw - dw;
    if (r >= 0 && r < 3 && c >= 0 && c < 3) grid[r * 3 + c] = i;
  });
  return grid.every((i) => i >= 0) ? grid : null;
}

/**
 * Tile rows transformed and multiplied together: rows of all images in turn, about 64
 * tiles (a divisor of batch x tile rows). One tile row at a time reloaded all of U
 * (16 K M floats, 1 MB at 128 channels) for every 2 output rows of every image, for
 * as few as 1-4 tiles on the small images of a ResNet-50's later stages.
 */
export function rowsPerChunk(s: DirectConvSpec, tile: WinogradTile = winogradTile(s)): number {
  const n = tile.m + 2;
  const rows = s.batch * (s.outRows / tile.m);
  const tw = s.outCols / tile.m;
  const bytesPerRow = 4 * n * n * tw * (s.inChannels + s.outChannels);
  const target = Math.max(1, Math.min(rows, Math.ceil(64 / tw), Math.floor((1536 * 1024) / bytesPerRow)));
  let g = target;
  while (rows % g !== 0) g--;
  return g;
}

/**
 * Scratch planes, in floats: V [n*n][tiles][K] then M [n*n][tiles][M], each plane
 * padded by one cache line so that the planes do not share L1 sets.
 */
function planes(s: DirectConvSpec, tile: WinogradTile): { v: number; m: number } {
  const tiles = rowsPerChunk(s, tile) * (s.outCols / tile.m);
  return { v: tiles * s.inChannels + 16, m: tiles * s.outChannels + 16 };
}

/** Floats of scratch the kernel needs. */
export function winogradScratch(s: DirectConvSpec, tile: WinogradTile = winogradTile(s)): number {
  const p = planes(s, tile);
  return (tile.m + 2) ** 2 * (p.v + p.m);
}

/** U[xi][k][m] = (G g G^T) for the 3x3 g[i][j] = w[grid[i*3+j]][k][m], w as [taps][K][M]. */
export function winogradWeights(w: Float32Array, wOffset: number, K: number, M: number, grid: number[], u: Float32Array): void {
  const km = K * M;
  for (let k = 0; k < K; k++) {
    for (let m = 0; m < M; m++) {
      const g = (i: number, j: number) => w[wOffset + grid[i * 3 + j] * km + k * M + m];
      // rows of G g: G = [[1,0,0],[.5,.5,.5],[.5,-.5,.5],[0,0,1]]
      const r: number[][] = [];
      for (let j = 0; j < 3; j++) {
        const a = g(0, j), b = g(1, j), c = g(2, j);
        r.push([a, 0.5 * (a + b + c), 0.5 * (a - b + c), c]);
      }
      // (G g) G^T: row i of the result from column i of G g
      for (let i = 0; i < 4; i++) {
        const a = r[0][i], b = r[1][i], c = r[2][i];
        const row = [a, 0.5 * (a + b + c), 0.5 * (a - b + c), c];
        for (let j = 0; j < 4; j++) u[((i * 4 + j) * K + k) * M + m] = row[j];
      }
    }
  }
}

/**
 * Module bytes exporting `wt(wPtr, uPtr)`: U = G g G^T as SIMD over groups of four
 * output channels (M % 4 == 0), w at wPtr laid out [taps][K][M], U at uPtr
 * [n*n][K][M]. In JS the transform took 1-2 ms per call for 64-128 channels (twice a
 * layer per step: forward and input gradient), more than the products at 8x8.
 */
export function winogradWeightsModule(K: number, M: number, grid: number[], tile: WinogradTile = F2): Uint8Array {
  const f = new Func('wt', ['i32', 'i32']);
  const [w, u] = f.params;
  const n = tile.m + 2;
  const k = f.local('i32');
  const mv = f.local('i32');
  const src = f.local('i32');
  const dst = f.local('i32');
  const g = Array.from({ length: 9 }, () => f.local('v128'));
  const t = Array.from({ length: 3 * n }, () => f.local('v128'));
  const combo = combiner(f, [tile.G]);
  const km = 4 * K * M;
  f.forConst(k, K, () => {
    f.forConst(mv, M / 4, () => {
      f.get(w).get(k).i32(4 * M).mul().add().get(mv).i32(16).mul().add().set(src);
      f.get(u).get(k).i32(4 * M).mul().add().get(mv).i32(16).mul().add().set(dst);
      for (let i = 0; i < 9; i++) f.get(src).v128Load(grid[i] * km).set(g[i]);
      // (G g)[i][j] = Σ_l G[i][l] g[l][j]
      for (let i = 0; i < n; i++) for (let j = 0; j < 3; j++) { combo(tile.G[i], (l) => f.get(g[l * 3 + j])); f.set(t[i * 3 + j]); }
      // U[i][j] = Σ_l (G g)[i][l] G[j][l]
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          f.get(dst);
          combo(tile.G[j], (l) => f.get(t[i * 3 + l]));
          f.v128Store((i * n + j) * km);
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
export function winogradModule(s: DirectConvSpec, tile: WinogradTile = winogradTile(s)): Uint8Array {
  const f = new Func('wino', ['i32', 'i32', 'i32', 'i32', 'i32']);
  const fused = relaxedMaddAvailable();
  const [input, u, bias, out, scratch] = f.params;
  const m = tile.m;
  const n = m + 2;
  const planeCount = n * n;
  const K = s.inChannels;
  const M = s.outChannels;
  const TW = s.outCols / m;
  const TH = s.outRows / m;
  const dh = Math.min(...s.taps.map((t) => t.dh));
  const dw = Math.min(...s.taps.map((t) => t.dw));
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
  const d = Array.from({ length: n }, () => f.local('v128'));
  const t = Array.from({ length: n * n }, () => f.local('v128'));
  const acc = Array.from({ length: P * V }, () => f.local('v128'));
  const wv = Array.from({ length: V }, () => f.local('v128'));
  const xs = f.local('v128');
  const combo = combiner(f, [tile.BT, tile.AT]);

  /** Input transform of tile tw (inTile = its top-left input pixel, channel vector kv) into V planes. */
  const inputTransform = () => {
    // columns: t[i][j] = (B^T d)[i][j]
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) f.get(inTile).v128Load(i * inRowBytes + 4 * j * K).set(d[i]);
      for (let i = 0; i < n; i++) {
        combo(tile.BT[i], (l) => f.get(d[l]));
        f.set(t[i * n + j]);
      }
    }
    // rows: V[i][j] = (t B)[i][j] = Σ_l t[i][l] B^T[j][l], stored at scratch + V[(i*n+j)][tw][kv]
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        f.get(vp);
        combo(tile.BT[j], (l) => f.get(t[i * n + l]));
        f.v128Store(4 * (i * n + j) * plane.v);
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

  /** Output transform of tile tw, channel vector at byte offset a: M planes -> m x m outputs. */
  const outputTransform = () => {
    // columns: t[i][j] = Σ_l A^T[i][l] M[l][j], M[l][j] = M[l*n+j][tw][a]
    for (let j = 0; j < n; j++) {
      for (let l = 0; l < n; l++) f.get(mp).v128Load(4 * (l * n + j) * plane.m).set(d[l]);
      for (let i = 0; i < m; i++) {
        combo(tile.AT[i], (l) => f.get(d[l]));
        f.set(t[i * n + j]);
      }
    }
    const b = xs;
    if (s.bias) f.get(bias).get(a).add().v128Load().set(b);
    for (let r = 0; r < m; r++) {
      for (let c = 0; c < m; c++) {
        f.get(outRow).i32(4 * (r * s.outCols + c) * M).add();
        combo(tile.AT[c], (l) => f.get(t[r * n + l]));
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
          // inTile = input + img*image + (m*tr + dh)*row + (m*tw + dw)*K*4 + kv*16
          f.get(input).get(img).i32(4 * s.inHeight * s.inWidth * K).mul().add();
          f.get(tr).i32(m * inRowBytes).mul().add().i32(dh * inRowBytes + 4 * dw * K).add();
          f.get(tw).i32(4 * m * K).mul().add().get(kv).i32(16).mul().add().set(inTile);
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
          f.get(tr).i32(4 * m * s.outCols * M).mul().add().get(tw).i32(4 * m * M).mul().add().get(a).add().set(outRow);
          outputTransform();
        });
      });
    });
  });
  return assemble([f]);
}
