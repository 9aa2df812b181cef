/**
 * Convolutions and both their gradients as per-tap matrix products over the whole
 * batch (../gather-plan, simd/gather-gemm) on the wasm heap. `gatherApplies` says
 * where they beat the direct and Winograd kernels: small images with many
 * channels, where those reload the filter for every image row.
 */
import { TensorInfo } from '@tensorflow/tfjs-core';
import { ConvGeometry, filterShape, imageSizes } from '../conv-geometry';
import { gatherPlan, GatherPlan } from '../gather-plan';
import { allocF32, BackendWasm, heapF32, heapPtr, release, wasmMemory } from './backend';
import { evenShares, KernelCall, runParts, threadsOf } from './kernel-pool';
import { sumPartials } from './run-conv';
import {
  GatherGemmSpec, gatherFilterGradModule, gatherForwardModule, gatherInputGradModule, gatherPackBytes,
} from './simd/gather-gemm';

export type GatherKind = 'forward' | 'input' | 'filter';

/**
 * Whether the gather kernels take this layer. MTL_GATHER_CONV=all|none overrides
 * (for measurements); otherwise: output channels in fours (and input channels for
 * the input gradient), and a 1x1 filter (as fast as the direct kernels on large
 * images, 2-8x faster on small ones) or a small image: at most 16 output pixels (4x4)
 * for the gradients, 4 (2x2) for the forward pass. From 8x8 up Winograd wins; at 4x4
 * it still wins forward (ResNet-50's 3x3 256->256 at batch 16: 3.6 ms Winograd
 * against 4.1 gathered) but not for the input gradient (5.2 against 3.9, the filter
 * rearranged in JS first) and ties for the filter gradient; at 2x2 gathering is 2-5x
 * faster (Winograd's 4x4 tiles are mostly padding there).
 */
export function gatherApplies(g: ConvGeometry, kind: GatherKind): boolean {
  const mode = process.env.MTL_GATHER_CONV;
  if (mode === 'none') return false;
  if (g.outChannels % 4 !== 0) return false;
  if (kind === 'input' && g.inChannels % 4 !== 0) return false;
  if (mode === 'all') return true;
  return (g.filterHeight === 1 && g.filterWidth === 1) || g.outHeight * g.outWidth <= (kind === 'forward' ? 4 : 16);
}

interface Scratch {
  table: TensorInfo;
  zeroJunk: TensorInfo;
  writeJunk: TensorInfo;
  pack: TensorInfo;
}

/** The plan's table, two junk rows (one all zeros, one written freely) and the packing buffer, on the heap. */
function scratch(wasm: BackendWasm, plan: GatherPlan, g: ConvGeometry, packBytes: number): Scratch {
  const table = wasm.makeOutput([plan.table.length], 'int32');
  const junk = Math.max(g.inChannels, g.outChannels) + 8;
  const zeroJunk = allocF32(wasm, [junk]);
  const writeJunk = allocF32(wasm, [junk]);
  const pack = allocF32(wasm, [Math.ceil(packBytes / 4) + 4]);
  (wasm.typedArrayFromHeap(table) as Int32Array).set(plan.table);
  heapF32(wasm, zeroJunk).fill(0);
  return { table, zeroJunk, writeJunk, pack };
}

const releaseScratch = (wasm: BackendWasm, s: Scratch) => release(wasm, s.table, s.zeroJunk, s.writeJunk, s.pack);

function spec(g: ConvGeometry, plan: GatherPlan, firstWrites: boolean, extra: Partial<GatherGemmSpec> = {}): GatherGemmSpec {
  return { inChannels: g.inChannels, outChannels: g.outChannels, taps: plan.taps.length, firstWrites, ...extra };
}

/** Bytes of one image of each operand. */
function imageBytes(g: ConvGeometry): { input: number; output: number } {
  const floats = imageSizes(g);
  return { input: 4 * floats.input, output: 4 * floats.output };
}

/**
 * One kernel call per share of the batch (kernel threads, or one share): each with the
 * plan of its own images, its scratch, and the operands' pointers moved to its first image.
 */
function gatherParts(
  wasm: BackendWasm, g: ConvGeometry, kind: GatherKind, firstWrites: (plan: GatherPlan) => boolean, extra: (plan: GatherPlan) => Partial<GatherGemmSpec>,
  call: (k: GatherGemmSpec, s: Scratch, start: number) => KernelCall,
): { parts: KernelCall[][]; scratches: Scratch[] } {
  const memory = wasmMemory(wasm);
  const shares = evenShares(g.batch, threadsOf(memory));
  const scratches: Scratch[] = [];
  const parts = shares.map((share) => {
    const part = { ...g, batch: share.count };
    const plan = gatherPlan(part);
    const k = spec(part, plan, firstWrites(plan), extra(plan));
    const s = scratch(wasm, plan, part, gatherPackBytes(kind, k));
    scratches.push(s);
    return [call(k, s, share.start)];
  });
  return { parts, scratches };
}

/** y = conv(x, filter) (+ bias) (relu), y newly allocated [N, OH, OW, Co]. */
export function gatherForward(wasm: BackendWasm, g: ConvGeometry, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | undefined, relu: boolean): TensorInfo {
  const out = allocF32(wasm, [g.batch, g.outHeight, g.outWidth, g.outChannels]);
  const whole = gatherPlan(g);
  if (!whole.firstCoversOutput) {
    const y = heapF32(wasm, out);
    if (bias === undefined) y.fill(0);
    else {
      const b = heapF32(wasm, bias);
      for (let r = 0; r < whole.outRows; r++) y.set(b, r * g.outChannels);
    }
  }
  const bytes = imageBytes(g);
  const { parts, scratches } = gatherParts(wasm, g, 'forward', () => whole.firstCoversOutput,
    (plan) => ({ bias: bias !== undefined, relu, outRows: plan.outRows }),
    (k, s, start) => ({
      key: `gather-fwd:${JSON.stringify(k)}`,
      generate: () => gatherForwardModule(k),
      fn: 'fwd',
      args: [heapPtr(wasm, x) + bytes.input * start, heapPtr(wasm, filter), bias === undefined ? 0 : heapPtr(wasm, bias),
        heapPtr(wasm, out) + bytes.output * start, heapPtr(wasm, s.table), heapPtr(wasm, s.zeroJunk), heapPtr(wasm, s.writeJunk), heapPtr(wasm, s.pack)],
    }));
  runParts(wasmMemory(wasm), parts);
  for (const s of scratches) releaseScratch(wasm, s);
  return out;
}

/** dx [N, H, W, Ci] of y = conv(x, filter). */
export function gatherInputGrad(wasm: BackendWasm, g: ConvGeometry, dy: TensorInfo, filter: TensorInfo): TensorInfo {
  const out = allocF32(wasm, [g.batch, g.inHeight, g.inWidth, g.inChannels]);
  const whole = gatherPlan(g);
  if (!whole.firstCoversInput) heapF32(wasm, out).fill(0);
  const bytes = imageBytes(g);
  const { parts, scratches } = gatherParts(wasm, g, 'input', () => whole.firstCoversInput, () => ({}),
    (k, s, start) => ({
      key: `gather-bwd:${JSON.stringify(k)}`,
      generate: () => gatherInputGradModule(k),
      fn: 'bwd',
      args: [heapPtr(wasm, dy) + bytes.output * start, heapPtr(wasm, filter), heapPtr(wasm, out) + bytes.input * start,
        heapPtr(wasm, s.table), heapPtr(wasm, s.zeroJunk), heapPtr(wasm, s.writeJunk), heapPtr(wasm, s.pack)],
    }));
  runParts(wasmMemory(wasm), parts);
  for (const s of scratches) releaseScratch(wasm, s);
  return out;
}

/** dW [KH, KW, Ci, Co] of y = conv(x, filter): each share's sum into its own block, then added up. */
export function gatherFilterGrad(wasm: BackendWasm, g: ConvGeometry, x: TensorInfo, dy: TensorInfo): TensorInfo {
  const bytes = imageBytes(g);
  const partials: TensorInfo[] = [];
  const { parts, scratches } = gatherParts(wasm, g, 'filter', () => false, () => ({}),
    (k, s, start) => {
      const out = allocF32(wasm, filterShape(g));
      if (k.taps < g.filterHeight * g.filterWidth) heapF32(wasm, out).fill(0);
      partials.push(out);
      return {
        key: `gather-dw:${JSON.stringify(k)}`,
        generate: () => gatherFilterGradModule(k),
        fn: 'dw',
        args: [heapPtr(wasm, x) + bytes.input * start, heapPtr(wasm, dy) + bytes.output * start, heapPtr(wasm, out), heapPtr(wasm, s.table), heapPtr(wasm, s.pack)],
      };
    });
  runParts(wasmMemory(wasm), parts);
  for (const s of scratches) releaseScratch(wasm, s);
  return sumPartials(wasm, partials);
}
