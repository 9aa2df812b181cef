/**
 * Winograd F(2x2, 3x3) for the stride-1 3x3 direct convolutions (forward, and
 * the input gradient of a stride-1 layer): each 2x2 output tile is
 *
 *   Y = A^T [ sum_k (G g G^T)[k] * (B^T d B)[k] ] A
 *
 * which needs 16 multiplies per tile and channel pair instead of 36. For each
 * chunk of tile rows (pairs of output rows, of all images in turn: rowsPerChunk),
 * the generated kernel transforms the input tiles into 16 planes V[xi][tile][k]
 * (scratch), runs 16 small GEMMs M[xi] = V[xi] . U[xi] with U = G g G^T
 * (winogradWeightsModule), then applies the output transform (with bias and relu).
 */
import { DirectConvSpec } from '../../conv-plans';
import { relaxedMaddAvailable } from './relaxed';
import { assemble, Func, Local } from './emit';

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
export function rowsPerChunk(s: DirectConvSpec): number {
  const rows = s.batch * (s.outRows / 2);
  const tw = s.outCols / 2;
  const bytesPerRow = 64 * tw * (s.inChannels + s.outChannels);
  const target = Math.max(1, Math.min(rows, Math.ceil(64 / tw), Math.floor((1536 * 1024) / bytesPerRow)));
  let g = target;
  while (rows % g !== 0) g--;
  return g;
}

/**
 * Scratch planes, in floats: V [16][tiles][K] then M [16][tiles][M], each plane
 * padded by one cache line so that the 16 planes do not share L1 sets.
 */
function planes(s: DirectConvSpec): { v: number; m: number } {
  const tiles = rowsPerChunk(s) * (s.outCols / 2);
  return { v: tiles * s.inChannels + 16, m: tiles * s.outChannels + 16 };
}

/** Floats of scratch the kernel needs. */
export function winogradScratch(s: DirectConvSpec): number {
  const p = planes(s);
  return 16 * (p.v + p.m);
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
 * Module bytes exporting `wt(wPtr, uPtr)`: winogradWeights as SIMD over groups of
 * four output channels (M % 4 == 0), w at wPtr laid out [taps][K][M], U at uPtr
 * [16][K][M]. In JS the transform took 1-2 ms per call for 64-128 channels (twice a
 * layer per step: forward and input gradient), more than the products at 8x8.
 */
export function winogradWeightsModule(K: number, M: number, grid: number[]): Uint8Array {
  const f = new Func('wt', ['i32', 'i32']);
  const [w, u] = f.params;
  const k = f.local('i32');
  const mv = f.local('i32');
  const src = f.local('i32');
  const dst = f.local('i32');
  const g = Array.from({ length: 9 }, () => f.local('v128'));
  const t = Array.from({ length: 3 }, () => f.local('v128'));
  const half = f.local('v128');
  f.f32(0.5).f32x4Splat().set(half);
  const km = 4 * K * M;
  f.forConst(k, K, () => {
    f.forConst(mv, M / 4, () => {
      f.get(w).get(k).i32(4 * M).mul().add().get(mv).i32(16).mul().add().set(src);
      f.get(u).get(k).i32(4 * M).mul().add().get(mv).i32(16).mul().add().set(dst);
      for (let i = 0; i < 9; i++) f.get(src).v128Load(grid[i] * km).set(g[i]);
      // row i of G g: [g0j, (g0j+g1j+g2j)/2, (g0j-g1j+g2j)/2, g2j]
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 3; j++) {
          const a = g[j], b = g[3 + j], c = g[6 + j];
          if (i === 0) f.get(a);
          else if (i === 3) f.get(c);
          else {
            f.get(a).get(c).f32x4Add().get(b);
            if (i === 1) f.f32x4Add();
            else f.f32x4Sub();
            f.get(half).f32x4Mul();
          }
          f.set(t[j]);
        }
        // U[i][l] = (t G^T)[l]
        const store = (l: number, value: () => void) => {
          f.get(dst);
          value();
          f.v128Store((i * 4 + l) * km);
        };
        store(0, () => f.get(t[0]));
        store(1, () => f.get(t[0]).get(t[2]).f32x4Add().get(t[1]).f32x4Add().get(half).f32x4Mul());
        store(2, () => f.get(t[0]).get(t[2]).f32x4Add().get(t[1]).f32x4Sub().get(half).f32x4Mul());
        store(3, () => f.get(t[2]));
      }
    });
  });
  return assemble([f]);
}

/** Register tile of the GEMMs: tiles x f32x4 vectors of output channels. */
const P = 4;
const V = 2;

/** Module bytes exporting `wino(inPtr, uPtr, biasPtr, outPtr, scratchPtr)`. */
export function winogradModule(s: DirectConvSpec): Uint8Array {
  const f = new Func('wino', ['i32', 'i32', 'i32', 'i32', 'i32']);
  const fused = relaxedMaddAvailable();
  const [input, u, bias, out, scratch] = f.params;
  const K = s.inChannels;
  const M = s.outChannels;
  const TW = s.outCols / 2;
  const TH = s.outRows / 2;
  const dh = Math.min(...s.taps.map((t) => t.dh));
  const dw = Math.min(...s.taps.map((t) => t.dw));
  const inRowBytes = 4 * s.inWidth * K;
  const plane = planes(s);
  const vBase = 0;
  const mBase = 4 * 16 * plane.v;

  const G = rowsPerChunk(s);
  const chunk = f.local('i32');
  const row = f.local('i32');
  const q = f.local('i32');
  const n = f.local('i32');
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
  const d = Array.from({ length: 4 }, () => f.local('v128'));
  const t = Array.from({ length: 16 }, () => f.local('v128'));
  const acc = Array.from({ length: P * V }, () => f.local('v128'));
  const wv = Array.from({ length: V }, () => f.local('v128'));
  const xs = f.local('v128');

  // v = a op b helpers on locals
  const add = (x: Local, y: Local) => f.get(x).get(y).f32x4Add();
  const sub = (x: Local, y: Local) => f.get(x).get(y).f32x4Sub();

  /** Input transform of tile tw (inTile = its top-left input pixel, channel vector kv) into V planes. */
  const inputTransform = () => {
    // columns: t[i][j] = (B^T d)[i][j]
    for (let j = 0; j < 4; j++) {
      for (let i = 0; i < 4; i++) f.get(inTile).v128Load(i * inRowBytes + 4 * j * K).set(d[i]);
      sub(d[0], d[2]).set(t[0 * 4 + j]);
      add(d[1], d[2]).set(t[1 * 4 + j]);
      sub(d[2], d[1]).set(t[2 * 4 + j]);
      sub(d[1], d[3]).set(t[3 * 4 + j]);
    }
    // rows: V[i][*] = t[i] B, stored at scratch + V[(i*4+j)][tw][kv]
    for (let i = 0; i < 4; i++) {
      const r = (j: number) => t[i * 4 + j];
      const store = (j: number, value: () => void) => {
        f.get(vp);
        value();
        f.v128Store(4 * (i * 4 + j) * plane.v);
      };
      store(0, () => sub(r(0), r(2)));
      store(1, () => add(r(1), r(2)));
      store(2, () => sub(r(2), r(1)));
      store(3, () => sub(r(1), r(3)));
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

  /** Output transform of tile tw, channel vector at byte offset a: M planes -> 2x2 outputs. */
  const outputTransform = () => {
    // s0j = m0j + m1j + m2j, s1j = m1j - m2j - m3j, m_ij = M[i*4+j][tw][a]
    const load = (i: number, j: number, into: Local) => f.get(mp).v128Load(4 * (i * 4 + j) * plane.m).set(into);
    for (let j = 0; j < 4; j++) {
      for (let i = 0; i < 4; i++) load(i, j, d[i]);
      add(d[0], d[1]).get(d[2]).f32x4Add().set(t[j]);
      sub(d[1], d[2]).get(d[3]).f32x4Sub().set(t[4 + j]);
    }
    const b = t[8];
    if (s.bias) f.get(bias).get(a).add().v128Load().set(b);
    for (let r = 0; r < 2; r++) {
      const row = (j: number) => t[r * 4 + j];
      for (let c = 0; c < 2; c++) {
        f.get(outRow).i32(4 * (r * s.outCols + c) * M).add();
        if (c === 0) add(row(0), row(1)).get(row(2)).f32x4Add();
        else sub(row(1), row(2)).get(row(3)).f32x4Sub();
        if (s.bias) f.get(b).f32x4Add();
        if (s.relu) f.v128Zero().f32x4Max();
        f.v128Store();
      }
    }
  };

  /** n and tr of tile row `row` of the chunk. */
  const rowOf = () => {
    f.get(chunk).i32(G).mul().get(row).add().tee(q).i32(TH).divU().set(n);
    f.get(q).get(n).i32(TH).mul().sub().set(tr);
  };
  f.forConst(chunk, (s.batch * TH) / G, () => {
    // input transform of every tile of the chunk's tile rows
    f.forConst(row, G, () => {
      rowOf();
      f.forConst(tw, TW, () => {
        f.forConst(kv, K / 4, () => {
          // inTile = input + n*image + (2tr + dh)*row + (2tw + dw)*K*4 + kv*16
          f.get(input).get(n).i32(4 * s.inHeight * s.inWidth * K).mul().add();
          f.get(tr).i32(2 * inRowBytes).mul().add().i32(dh * inRowBytes + 4 * dw * K).add();
          f.get(tw).i32(8 * K).mul().add().get(kv).i32(16).mul().add().set(inTile);
          f.get(scratch).i32(vBase).add().get(row).i32(4 * K * TW).mul().add().get(tw).i32(4 * K).mul().add().get(kv).i32(16).mul().add().set(vp);
          inputTransform();
        });
      });
    });
    // 16 GEMMs over the chunk's tiles
    f.forConst(xi, 16, () => {
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
          f.get(out).get(n).i32(4 * s.outImageStride).mul().add();
          f.get(tr).i32(4 * 2 * s.outCols * M).mul().add().get(tw).i32(4 * 2 * M).mul().add().get(a).add().set(outRow);
          outputTransform();
        });
      });
    });
  });
  return assemble([f]);
}
