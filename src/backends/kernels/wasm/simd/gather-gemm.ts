/**
 * Generated SIMD kernels for the per-tap matrix products of a GatherPlan
 * (../../gather-plan): the forward convolution (`fwd`, rows x [Ci] . [Ci, Co]),
 * the input gradient (`bwd`, dot products of dy rows with the filter's rows, so
 * the filter is never transposed) and the filter gradient (`dw`, a sum over rows
 * of outer products). Each kernel loops over the plan's taps at run time (the
 * descriptors are in the table), so one module serves every geometry with the
 * same channels. Rows are visited in chunks that stay in L2 while the filter
 * block of one register tile stays in L1.
 */
import { assemble, Func, Local } from './emit';
import { relaxedMaddAvailable } from './relaxed';

/** Bytes per descriptor in the table: [weight offset, entries offset, rows, valid rows]. */
export const DESCRIPTOR_BYTES = 16;

export interface GatherGemmSpec {
  inChannels: number;
  outChannels: number;
  /** Taps in the plan (descriptors at the table's start). */
  taps: number;
  /** The first tap writes its result instead of adding to it (forward: it covers every output row; input gradient: every input row). */
  firstWrites: boolean;
  /** Forward only. */
  bias?: boolean;
  relu?: boolean;
  /** Forward with relu over several taps: rows of y for the final relu pass. */
  outRows?: number;
}

/** Rows of a chunk: about `budget` bytes of the operands that are re-read for every register tile. */
function chunkOf(bytesPerRow: number, multiple: number, budget: number): number {
  return Math.max(multiple, Math.floor(budget / bytesPerRow / multiple) * multiple);
}

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

/** dst = a < 0 ? junk : base + a */
function rowPtr(f: Func, dst: Local, base: Local, off: Local, junk: Local): void {
  f.get(junk).get(base).get(off).add().get(off).i32(0).ltS().select().set(dst);
}

const P_FWD = 4;
const V_FWD = 2;
/** Input channels per block of the forward product (its packed sliver, KC x 4V floats, stays in L1). */
const KC_FWD = 256;
/** Output channels per block of the input gradient (its packed rows, 4 x MC floats, stay in L1). */
const MC_BWD = 512;
const ROW_CHUNK_BYTES = 256 * 1024;
const FILTER_CHUNK_BYTES = 512 * 1024;

/** A block size that divides n (n itself when small or when `preferred` does not divide it). */
const blockOf = (n: number, preferred: number) => (n > preferred && n % preferred === 0 ? preferred : n);

/** Bytes of the `pack` scratch each kernel needs. */
export function gatherPackBytes(kind: 'forward' | 'input' | 'filter', s: GatherGemmSpec): number {
  const K = s.inChannels;
  const M = s.outChannels;
  if (kind === 'forward') return 16 * V_FWD * blockOf(K, KC_FWD);
  if (kind === 'input') return 16 * blockOf(M, MC_BWD);
  const rows = chunkOf(4 * (K + M), 1, FILTER_CHUNK_BYTES);
  return rows * 4 * (Math.ceil(K / CB_DW) * CB_DW + Math.ceil(M / (4 * V_DW)) * 4 * V_DW);
}

/**
 * `fwd(x, w, bias, y, table, zeroJunk, writeJunk, pack)`: y = x * w (+ bias) (relu)
 * over the plan's taps. Per block of KC input channels and 4V output channels the
 * filter's sliver is first copied to `pack`, contiguous: read in place its rows lie
 * Co floats apart, which for 1,024-2,048 channels puts each on its own page and the
 * whole sliver in a few L1 sets.
 */
export function gatherForwardModule(s: GatherGemmSpec): Uint8Array {
  const f = new Func('fwd', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [x, w, bias, y, table, zj, wj, pack] = f.params;
  const fused = relaxedMaddAvailable();
  const K = s.inChannels;
  const M = s.outChannels;
  const P = P_FWD;
  const V = V_FWD;
  const KC = blockOf(K, KC_FWD);
  const kBlocks = K / KC;
  // k is not unrolled: unrolled bodies measured 1.2x (by 2) to 1.8x (by 8) slower (V8's register allocation)
  const U = 1;
  const chunkTiles = chunkOf(4 * KC, P, ROW_CHUNK_BYTES) / P;
  const td = f.local('i32');
  const wT = f.local('i32');
  const wK = f.local('i32');
  const kOff = f.local('i32');
  const ents = f.local('i32');
  const left = f.local('i32');
  const ct = f.local('i32');
  const mb = f.local('i32');
  const col = f.local('i32');
  const wB = f.local('i32');
  const e = f.local('i32');
  const c = f.local('i32');
  const wp = f.local('i32');
  const wEnd = f.local('i32');
  const off = f.local('i32');
  const kb = f.local('i32');
  const xp = Array.from({ length: P }, () => f.local('i32'));
  const yp = Array.from({ length: P }, () => f.local('i32'));
  const acc = Array.from({ length: P * V }, () => f.local('v128'));
  const wv = Array.from({ length: V }, () => f.local('v128'));
  const xs = f.local('v128');
  const inlineRelu = s.relu === true && s.taps === 1 && kBlocks === 1;

  /** One sweep of the chunk's tiles for the channel block at byte offset `col`, nv vectors wide. */
  const sweep = (init: boolean, nv: number) => {
    // pack[k][0..nv) = w[tap][kBlock + k][col..]
    f.get(wK).get(col).add().set(wp);
    f.get(pack).set(wB);
    f.get(pack).i32(16 * nv * KC).add().set(wEnd);
    f.loop(() => {
      for (let j = 0; j < nv; j++) f.get(wB).get(wp).v128Load(16 * j).v128Store(16 * j);
      f.inc(wp, 4 * M).inc(wB, 16 * nv);
      f.get(wB).get(wEnd).ltU().brIf(0);
    });
    f.get(ents).set(e).get(ct).set(c);
    countdown(f, c, () => {
      for (let p = 0; p < P; p++) {
        f.get(e).i32Load(8 * p).set(off);
        rowPtr(f, xp[p], x, off, zj);
        f.get(xp[p]).get(kOff).add().set(xp[p]);
        f.get(e).i32Load(8 * p + 4).set(off);
        rowPtr(f, yp[p], y, off, wj);
        f.get(yp[p]).get(col).add().set(yp[p]);
      }
      for (let p = 0; p < P; p++) {
        for (let j = 0; j < nv; j++) {
          if (!init) f.get(yp[p]).v128Load(16 * j);
          else if (s.bias) f.get(bias).get(col).add().v128Load(16 * j);
          else f.v128Zero();
          f.set(acc[p * V + j]);
        }
      }
      const step = (u: number) => {
        for (let j = 0; j < nv; j++) f.get(wp).v128Load(16 * nv * u + 16 * j).set(wv[j]);
        for (let p = 0; p < P; p++) {
          f.get(xp[p]).f32x4LoadSplat(4 * u).set(xs);
          for (let j = 0; j < nv; j++) f.madd(acc[p * V + j], xs, wv[j], fused);
        }
      };
      f.get(pack).set(wp);
      const main = Math.floor(KC / U);
      if (main > 0) {
        f.get(pack).i32(16 * nv * U * main).add().set(wEnd);
        f.loop(() => {
          for (let u = 0; u < U; u++) step(u);
          for (let p = 0; p < P; p++) f.inc(xp[p], 4 * U);
          f.inc(wp, 16 * nv * U);
          f.get(wp).get(wEnd).ltU().brIf(0);
        });
      }
      for (let u = 0; u < KC - main * U; u++) step(u);
      for (let p = 0; p < P; p++) {
        for (let j = 0; j < nv; j++) {
          f.get(yp[p]).get(acc[p * V + j]);
          if (inlineRelu) f.v128Zero().f32x4Max();
          f.v128Store(16 * j);
        }
      }
      f.inc(e, 8 * P);
    });
  };

  /** The tap's product with input channels [kOff/4, kOff/4 + KC): wK and kOff set. */
  const block = (init: boolean) => {
    f.get(table).get(td).i32Load(4).add().set(ents);
    f.get(td).i32Load(8).i32(P).divU().set(left);
    countdown(f, left, () => {
      // ct = min(left, chunkTiles); the countdown's decrement takes one more off `left`
      f.get(left).set(ct);
      f.get(ct).i32(chunkTiles).gtS().ifThen(() => { f.i32(chunkTiles).set(ct); });
      const full = Math.floor(M / (4 * V));
      f.forConst(mb, full, () => {
        f.get(mb).i32(16 * V).mul().set(col);
        sweep(init, V);
      });
      for (let c0 = full * 4 * V; c0 < M; c0 += 4) {
        f.i32(4 * c0).set(col);
        sweep(init, 1);
      }
      f.get(ents).get(ct).i32(8 * P).mul().add().set(ents);
      f.get(left).get(ct).sub().i32(1).add().set(left);
    });
  };

  const tap = (init: boolean) => {
    f.get(w).get(td).i32Load(0).add().set(wT);
    f.get(wT).set(wK);
    f.i32(0).set(kOff);
    block(init);
    if (kBlocks > 1) {
      f.forConst(kb, kBlocks - 1, () => {
        f.inc(wK, 4 * KC * M).inc(kOff, 4 * KC);
        block(false);
      });
    }
  };

  f.get(table).set(td);
  tap(s.firstWrites);
  if (s.taps > 1) {
    const t = f.local('i32');
    f.forConst(t, s.taps - 1, () => {
      f.inc(td, DESCRIPTOR_BYTES);
      tap(false);
    });
  }
  if (s.relu && !inlineRelu) {
    const i = f.local('i32');
    f.forConst(i, (s.outRows ?? 0) * (M / 4), () => {
      f.get(y).get(i).i32(16).mul().add().set(wp);
      f.get(wp).get(wp).v128Load().v128Zero().f32x4Max().v128Store();
    });
  }
  return assemble([f]);
}

const P_BWD = 2;
const Q_BWD = 4;

/** Pushes [sum(a), sum(b), sum(c), sum(d)]. */
function horizontalSums(f: Func, a: Local[], t: Local[]): void {
  f.get(a[0]).get(a[1]).f32x4Shuffle([0, 1, 4, 5]).get(a[0]).get(a[1]).f32x4Shuffle([2, 3, 6, 7]).f32x4Add().set(t[0]);
  f.get(a[2]).get(a[3]).f32x4Shuffle([0, 1, 4, 5]).get(a[2]).get(a[3]).f32x4Shuffle([2, 3, 6, 7]).f32x4Add().set(t[1]);
  f.get(t[0]).get(t[1]).f32x4Shuffle([0, 2, 4, 6]).get(t[0]).get(t[1]).f32x4Shuffle([1, 3, 5, 7]).f32x4Add();
}

/**
 * `bwd(dy, w, dx, table, zeroJunk, writeJunk, pack)`: dx += dy . w^T per tap (Ci and
 * Co in fours), in blocks of MC output channels. The four filter rows of a block of
 * input channels are interleaved in `pack` first ([co/4][4 rows] vectors), one
 * stream instead of four.
 */
export function gatherInputGradModule(s: GatherGemmSpec): Uint8Array {
  const f = new Func('bwd', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [dy, w, dx, table, zj, wj, pack] = f.params;
  const fused = relaxedMaddAvailable();
  const K = s.inChannels;
  const M = s.outChannels;
  if (K % 4 !== 0 || M % 4 !== 0) throw new Error('gather input gradient: channels must be multiples of 4');
  const P = P_BWD;
  const Q = Q_BWD;
  const MC = blockOf(M, MC_BWD);
  const mBlocks = M / MC;
  // not unrolled: by 2 measured 1.1x slower, by 4 1.3x
  const U = 1;
  const chunkTiles = chunkOf(4 * MC, P, ROW_CHUNK_BYTES) / P;
  const td = f.local('i32');
  const wT = f.local('i32');
  const mOff = f.local('i32');
  const ents = f.local('i32');
  const left = f.local('i32');
  const ct = f.local('i32');
  const cb = f.local('i32');
  const wRow = f.local('i32');
  const e = f.local('i32');
  const c = f.local('i32');
  const wp = f.local('i32');
  const wEnd = f.local('i32');
  const off = f.local('i32');
  const mbl = f.local('i32');
  const yp = Array.from({ length: P }, () => f.local('i32'));
  const xp = Array.from({ length: P }, () => f.local('i32'));
  const acc = Array.from({ length: P * Q }, () => f.local('v128'));
  const dyv = Array.from({ length: P }, () => f.local('v128'));
  const wv = f.local('v128');
  const tmp = [f.local('v128'), f.local('v128')];

  /** The tap's product over output channels [mOff/4, mOff/4 + MC). */
  const block = (write: boolean) => {
    f.get(table).get(td).i32Load(4).add().set(ents);
    f.get(td).i32Load(8).i32(P).divU().set(left);
    countdown(f, left, () => {
      f.get(left).set(ct);
      f.get(ct).i32(chunkTiles).gtS().ifThen(() => { f.i32(chunkTiles).set(ct); });
      f.forConst(cb, K / Q, () => {
        f.get(wT).get(cb).i32(4 * Q * M).mul().add().get(mOff).add().set(wRow);
        // pack[c][q] = w[tap][4cb + q][mBlock + 4c..+4)
        f.get(pack).set(wp);
        f.get(pack).i32(16 * MC).add().set(wEnd);
        f.loop(() => {
          for (let q = 0; q < Q; q++) f.get(wp).get(wRow).v128Load(4 * M * q).v128Store(16 * q);
          f.inc(wRow, 16).inc(wp, 16 * Q);
          f.get(wp).get(wEnd).ltU().brIf(0);
        });
        f.get(ents).set(e).get(ct).set(c);
        countdown(f, c, () => {
          for (let p = 0; p < P; p++) {
            f.get(e).i32Load(8 * p + 4).set(off);
            rowPtr(f, yp[p], dy, off, zj);
            f.get(yp[p]).get(mOff).add().set(yp[p]);
            f.get(e).i32Load(8 * p).set(off);
            rowPtr(f, xp[p], dx, off, wj);
          }
          for (const a of acc) f.v128Zero().set(a);
          const step = (u: number) => {
            for (let p = 0; p < P; p++) f.get(yp[p]).v128Load(16 * u).set(dyv[p]);
            for (let q = 0; q < Q; q++) {
              f.get(wp).v128Load(16 * Q * u + 16 * q).set(wv);
              for (let p = 0; p < P; p++) f.madd(acc[p * Q + q], dyv[p], wv, fused);
            }
          };
          f.get(pack).set(wp);
          f.loop(() => {
            for (let u = 0; u < U; u++) step(u);
            for (let p = 0; p < P; p++) f.inc(yp[p], 16 * U);
            f.inc(wp, 16 * Q * U);
            f.get(wp).get(wEnd).ltU().brIf(0);
          });
          for (let p = 0; p < P; p++) {
            f.get(xp[p]).get(cb).i32(16).mul().add().set(xp[p]);
            f.get(xp[p]);
            horizontalSums(f, acc.slice(p * Q, p * Q + Q), tmp);
            if (!write) f.get(xp[p]).v128Load().f32x4Add();
            f.v128Store();
          }
          f.inc(e, 8 * P);
        });
      });
      f.get(ents).get(ct).i32(8 * P).mul().add().set(ents);
      f.get(left).get(ct).sub().i32(1).add().set(left);
    });
  };

  const tap = (write: boolean) => {
    f.get(w).get(td).i32Load(0).add().set(wT);
    f.i32(0).set(mOff);
    block(write);
    if (mBlocks > 1) {
      f.forConst(mbl, mBlocks - 1, () => {
        f.inc(mOff, 4 * MC);
        block(false);
      });
    }
  };

  f.get(table).set(td);
  tap(s.firstWrites);
  if (s.taps > 1) {
    const t = f.local('i32');
    f.forConst(t, s.taps - 1, () => {
      f.inc(td, DESCRIPTOR_BYTES);
      tap(false);
    });
  }
  return assemble([f]);
}

const CB_DW = 4;
const V_DW = 2;

/**
 * `dw(x, dy, dW, table, pack)`: dW[tap] = sum over the tap's valid rows of
 * x[row]^T dy[row] (Co in fours). Each chunk of rows is first copied to `pack` as
 * panels, x as [Ci/4][row][4] and dy as [Co/8][row][8], so every register tile reads
 * two contiguous streams. Blocks of taps absent from the plan are left as they are
 * (zero them first).
 */
export function gatherFilterGradModule(s: GatherGemmSpec): Uint8Array {
  const f = new Func('dw', ['i32', 'i32', 'i32', 'i32', 'i32']);
  const [x, dy, dW, table, pack] = f.params;
  const fused = relaxedMaddAvailable();
  const K = s.inChannels;
  const M = s.outChannels;
  if (M % 4 !== 0) throw new Error('gather filter gradient: output channels must be a multiple of 4');
  const chunkRows = chunkOf(4 * (K + M), 1, FILTER_CHUNK_BYTES);
  const xBlocks = Math.ceil(K / CB_DW);
  const yBlocks = Math.ceil(M / (4 * V_DW));
  /** Panel strides (bytes): one x panel holds chunkRows rows of 4 floats, one dy panel of 8 (4 for a 4-wide tail). */
  const xPanel = 16 * chunkRows;
  const yPanel = 16 * V_DW * chunkRows;
  const yPack = xBlocks * xPanel;
  const td = f.local('i32');
  const dwT = f.local('i32');
  const ents = f.local('i32');
  const left = f.local('i32');
  const cr = f.local('i32');
  const first = f.local('i32');
  const cb = f.local('i32');
  const ob = f.local('i32');
  const dwp = f.local('i32');
  const e = f.local('i32');
  const c = f.local('i32');
  const xq = f.local('i32');
  const yq = f.local('i32');
  const src = f.local('i32');
  const acc = Array.from({ length: CB_DW * V_DW }, () => f.local('v128'));
  const dyv = Array.from({ length: V_DW }, () => f.local('v128'));
  const xs = f.local('v128');

  /** Copies the chunk's rows into the panels. */
  const packChunk = () => {
    f.get(ents).set(e).get(cr).set(c);
    const r = f.local('i32');
    f.i32(0).set(r);
    countdown(f, c, () => {
      // x row -> xPanel[b] + 16 r
      f.get(x).get(e).i32Load(0).add().set(src);
      f.get(pack).get(r).i32(16).mul().add().set(xq);
      for (let b = 0; b < Math.floor(K / CB_DW); b++) f.get(xq).get(src).v128Load(16 * b).v128Store(b * xPanel);
      for (let a = 0; a < K % CB_DW; a++) f.get(xq).get(src).f32Load(16 * Math.floor(K / CB_DW) + 4 * a).f32Store(Math.floor(K / CB_DW) * xPanel + 4 * a);
      // dy row -> yPanel[b] + 32 r (the 4-wide tail panel too: it has the same stride)
      f.get(dy).get(e).i32Load(4).add().set(src);
      f.get(pack).i32(yPack).add().get(r).i32(16 * V_DW).mul().add().set(yq);
      for (let v = 0; v < M / 4; v++) {
        const b = Math.floor(v / V_DW);
        f.get(yq).get(src).v128Load(16 * v).v128Store(b * yPanel + 16 * (v % V_DW));
      }
      f.inc(e, 8).inc(r, 1);
    });
  };

  /** Register tile of nci input channels x nv vectors: xq, yq at the panels' first rows, dwp at the dW block. */
  const tile = (nci: number, nv: number) => {
    const a = (i: number, j: number) => acc[i * V_DW + j];
    f.get(first).ifThen(
      () => { for (let i = 0; i < nci; i++) for (let j = 0; j < nv; j++) f.v128Zero().set(a(i, j)); },
      () => { for (let i = 0; i < nci; i++) for (let j = 0; j < nv; j++) f.get(dwp).v128Load(4 * i * M + 16 * j).set(a(i, j)); },
    );
    f.get(cr).set(c);
    countdown(f, c, () => {
      for (let j = 0; j < nv; j++) f.get(yq).v128Load(16 * j).set(dyv[j]);
      for (let i = 0; i < nci; i++) {
        f.get(xq).f32x4LoadSplat(4 * i).set(xs);
        for (let j = 0; j < nv; j++) f.madd(a(i, j), xs, dyv[j], fused);
      }
      f.inc(xq, 16).inc(yq, 16 * V_DW);
    });
    for (let i = 0; i < nci; i++) for (let j = 0; j < nv; j++) f.get(dwp).get(a(i, j)).v128Store(4 * i * M + 16 * j);
  };

  /** All output-channel blocks for nci input channels of x panel `cbValue`. */
  const row = (nci: number, cbValue: () => void) => {
    const full = Math.floor(M / (4 * V_DW));
    const each = (nv: number, obValue: () => void) => {
      f.get(pack); cbValue(); f.i32(xPanel).mul().add().set(xq);
      f.get(pack).i32(yPack).add(); obValue(); f.i32(yPanel).mul().add().set(yq);
      f.get(dwT); cbValue(); f.i32(4 * CB_DW * M).mul().add(); obValue(); f.i32(16 * V_DW).mul().add().set(dwp);
      tile(nci, nv);
    };
    f.forConst(ob, full, () => each(V_DW, () => f.get(ob)));
    if (M % (4 * V_DW) > 0) each(1, () => f.i32(full));
  };

  f.get(table).set(td);
  const t = f.local('i32');
  f.forConst(t, s.taps, () => {
    f.get(dW).get(td).i32Load(0).add().set(dwT);
    f.get(table).get(td).i32Load(4).add().set(ents);
    f.get(td).i32Load(12).set(left);
    f.i32(1).set(first);
    f.block(() => {
      f.get(left).eqz().brIf(0);
      f.loop(() => {
        f.get(left).set(cr);
        f.get(cr).i32(chunkRows).gtS().ifThen(() => { f.i32(chunkRows).set(cr); });
        packChunk();
        const fullCi = Math.floor(K / CB_DW);
        f.forConst(cb, fullCi, () => row(CB_DW, () => f.get(cb)));
        if (K % CB_DW > 0) row(K % CB_DW, () => f.i32(fullCi));
        f.get(ents).get(cr).i32(8).mul().add().set(ents);
        f.i32(0).set(first);
        f.get(left).get(cr).sub().tee(left).brIf(0);
      });
    });
    f.inc(td, DESCRIPTOR_BYTES);
  });
  void yBlocks;
  return assemble([f]);
}
