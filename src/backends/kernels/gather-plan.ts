/**
 * A convolution as one matrix product per filter tap over the whole batch: for
 * tap t = (kh, kw), the output pixels (n, oh, ow) whose input pixel
 * (n, oh*sh + kh - pt, ow*sw + kw - pl) lies inside the image give the rows
 *
 *   y[row] += x[in(row, t)] . W[t]              (forward, [Ci] x [Ci, Co])
 *   dx[in(row, t)] += dy[row] . W[t]^T          (input gradient)
 *   dW[t] += x[in(row, t)]^T dy[row]            (filter gradient)
 *
 * No padded copy, no zeros multiplied, and each weight is loaded once per tap for
 * all the batch's rows instead of once per image row: the layers with small images
 * and many channels (a ResNet-50's last stages) are products of a few dozen rows
 * with megabytes of weights. The plan is the table of (input, output) byte offsets
 * of each tap's rows, padded to a multiple of GATHER_ROWS with dummy rows (-1).
 */
import { ConvGeometry } from './conv-geometry';

/** Rows per tap are padded to a multiple of this (the register tiles' heights divide it). */
export const GATHER_ROWS = 4;

export interface GatherTap {
  /** kh * KW + kw: the tap's [Ci, Co] block in the HWIO filter. */
  tap: number;
  /** Rows in the table, a multiple of GATHER_ROWS (dummies included). */
  rows: number;
  /** Real rows. */
  valid: number;
  /** Index of the tap's first row (an (input, output) pair) in the table. */
  first: number;
}

export interface GatherPlan {
  taps: GatherTap[];
  /**
   * Per tap: i32 descriptors [weight byte offset, first entry's byte offset from the
   * table start, rows, valid rows], then the entries: [x byte offset, y byte offset] per row
   * (-1 and -1 for a dummy row).
   */
  table: Int32Array;
  /** Output pixels of the whole batch (N * OH * OW). */
  outRows: number;
  /** Input pixels of the whole batch (N * H * W). */
  inRows: number;
  /** The first tap covers every output pixel (it can initialise y). */
  firstCoversOutput: boolean;
  /** The first tap alone covers every input pixel exactly once (it can initialise dx). */
  firstCoversInput: boolean;
}

const plans = new Map<string, GatherPlan>();

function valid(out: number, stride: number, pad: number, k: number, size: number): [number, number] {
  const lo = Math.max(0, Math.ceil((pad - k) / stride));
  const hi = Math.min(out, Math.floor((size - 1 + pad - k) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}

/** The plan for a geometry (cached). */
export function gatherPlan(g: ConvGeometry): GatherPlan {
  const key = JSON.stringify(g);
  const cached = plans.get(key);
  if (cached) return cached;
  const raw: { tap: number; rows: [number, number][] }[] = [];
  const ci = g.inChannels;
  const co = g.outChannels;
  for (let kh = 0; kh < g.filterHeight; kh++) {
    const [ohLo, ohHi] = valid(g.outHeight, g.strideHeight, g.padTop, kh, g.inHeight);
    for (let kw = 0; kw < g.filterWidth; kw++) {
      const [owLo, owHi] = valid(g.outWidth, g.strideWidth, g.padLeft, kw, g.inWidth);
      const rows: [number, number][] = [];
      for (let n = 0; n < g.batch; n++) {
        for (let oh = ohLo; oh < ohHi; oh++) {
          const ih = oh * g.strideHeight + kh - g.padTop;
          for (let ow = owLo; ow < owHi; ow++) {
            const iw = ow * g.strideWidth + kw - g.padLeft;
            rows.push([4 * ((n * g.inHeight + ih) * g.inWidth + iw) * ci, 4 * ((n * g.outHeight + oh) * g.outWidth + ow) * co]);
          }
        }
      }
      if (rows.length > 0) raw.push({ tap: kh * g.filterWidth + kw, rows });
    }
  }
  const outRows = g.batch * g.outHeight * g.outWidth;
  const inRows = g.batch * g.inHeight * g.inWidth;
  // A tap that covers every output pixel goes first: it initialises y instead of adding to it.
  const full = raw.findIndex((t) => t.rows.length === outRows);
  if (full > 0) raw.unshift(...raw.splice(full, 1));
  const taps: GatherTap[] = [];
  let first = 0;
  for (const t of raw) {
    const rows = Math.ceil(t.rows.length / GATHER_ROWS) * GATHER_ROWS;
    taps.push({ tap: t.tap, rows, valid: t.rows.length, first });
    first += rows;
  }
  const header = 4 * taps.length;
  const table = new Int32Array(header + 2 * first).fill(-1);
  taps.forEach((t, i) => {
    table[4 * i] = 4 * t.tap * ci * co;
    table[4 * i + 1] = 4 * (header + 2 * t.first);
    table[4 * i + 2] = t.rows;
    table[4 * i + 3] = t.valid;
    raw[i].rows.forEach(([x, y], r) => {
      table[header + 2 * (t.first + r)] = x;
      table[header + 2 * (t.first + r) + 1] = y;
    });
  });
  const plan: GatherPlan = {
    taps,
    table,
    outRows,
    inRows,
    firstCoversOutput: full >= 0,
    firstCoversInput: taps.length === 1 && taps[0].valid === inRows,
  };
  plans.set(key, plan);
  return plan;
}
