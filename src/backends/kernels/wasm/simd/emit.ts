/**
 * A minimal WebAssembly (with SIMD) binary emitter, enough to generate the
 * shape-specialised kernels in this folder at run time. Modules import the tfjs
 * wasm backend's memory as env.memory, so kernels work on tensors in place.
 */
import { WA, WasmMemory } from './webassembly';

export type ValType = 'i32' | 'f32' | 'f64' | 'v128';

const TYPE_CODE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b };

function uleb(n: number, out: number[]): void {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}

function sleb(n: number, out: number[]): void {
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

function name(s: string, out: number[]): void {
  const bytes = Buffer.from(s, 'utf8');
  uleb(bytes.length, out);
  for (const b of bytes) out.push(b);
}

/** A local variable (parameters are locals too). */
export interface Local {
  readonly index: number;
  readonly type: ValType;
}

/** Builds one function body; methods push instructions and return `this`. */
export class Func {
  readonly code: number[] = [];
  private readonly extra: ValType[] = [];
  readonly params: Local[];

  constructor(readonly exportName: string, paramTypes: ValType[]) {
    this.params = paramTypes.map((type, index) => ({ index, type }));
  }

  local(type: ValType): Local {
    this.extra.push(type);
    return { index: this.params.length + this.extra.length - 1, type };
  }

  private op(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }

  private simd(opcode: number, ...imm: number[]): this {
    this.code.push(0xfd);
    uleb(opcode, this.code);
    for (const b of imm) this.code.push(b);
    return this;
  }

  private mem(alignLog2: number, offset: number): this {
    if (offset < 0) throw new Error(`negative memory offset ${offset}`);
    uleb(alignLog2, this.code);
    uleb(offset, this.code);
    return this;
  }

  get(l: Local): this { this.op(0x20); uleb(l.index, this.code); return this; }
  set(l: Local): this { this.op(0x21); uleb(l.index, this.code); return this; }
  tee(l: Local): this { this.op(0x22); uleb(l.index, this.code); return this; }
  i32(v: number): this { this.op(0x41); sleb(v | 0, this.code); return this; }
  f32(v: number): this {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    return this.op(0x43, ...b);
  }

  add(): this { return this.op(0x6a); }
  sub(): this { return this.op(0x6b); }
  mul(): this { return this.op(0x6c); }
  divU(): this { return this.op(0x6e); }
  and(): this { return this.op(0x71); }
  eqz(): this { return this.op(0x45); }
  ltS(): this { return this.op(0x48); }
  ltU(): this { return this.op(0x49); }
  gtS(): this { return this.op(0x4a); }
  leS(): this { return this.op(0x4c); }
  geS(): this { return this.op(0x4e); }
  ne(): this { return this.op(0x47); }

  f32Load(offset = 0): this { return this.op(0x2a).mem(2, offset); }
  i32Load(offset = 0): this { return this.op(0x28).mem(2, offset); }
  i32Store(offset = 0): this { return this.op(0x36).mem(2, offset); }
  f32Store(offset = 0): this { return this.op(0x38).mem(2, offset); }
  f64Load(offset = 0): this { return this.op(0x2b).mem(3, offset); }
  f64Store(offset = 0): this { return this.op(0x39).mem(3, offset); }
  f32Add(): this { return this.op(0x92); }
  f32Sub(): this { return this.op(0x93); }
  f32Mul(): this { return this.op(0x94); }
  f32Div(): this { return this.op(0x95); }
  f32Ne(): this { return this.op(0x5c); }
  f32Gt(): this { return this.op(0x5e); }
  f32Max(): this { return this.op(0x97); }
  f64Add(): this { return this.op(0xa0); }
  f64Sub(): this { return this.op(0xa1); }
  f64Mul(): this { return this.op(0xa2); }
  f64PromoteF32(): this { return this.op(0xbb); }
  f32DemoteF64(): this { return this.op(0xb6); }

  v128Load(offset = 0): this { return this.simd(0x00).mem(4, offset); }
  v128Store(offset = 0): this { return this.simd(0x0b).mem(4, offset); }
  /** Loads one f32 and splats it to all four lanes. */
  f32x4LoadSplat(offset = 0): this { return this.simd(0x09).mem(2, offset); }
  f32x4Splat(): this { return this.simd(0x13); }
  f32x4Add(): this { return this.simd(0xe4); }
  f32x4Sub(): this { return this.simd(0xe5); }
  f32x4Mul(): this { return this.simd(0xe6); }
  f32x4Div(): this { return this.simd(0xe7); }
  f32x4Max(): this { return this.simd(0xe9); }
  f32x4Sqrt(): this { return this.simd(0xe3); }
  f32x4Gt(): this { return this.simd(0x44); }
  f32x4Ne(): this { return this.simd(0x42); }
  /** v128.bitselect(a, b, mask): bits of a where mask is 1, of b elsewhere. */
  v128Bitselect(): this { return this.simd(0x52); }
  v128And(): this { return this.simd(0x4e); }
  i32x4Splat(): this { return this.simd(0x11); }
  i32x4ExtractLane(lane: number): this { return this.simd(0x1b, lane); }
  f32x4ExtractLane(lane: number): this { return this.simd(0x1f, lane); }
  f64x2PromoteLow(): this { return this.simd(0x5f); }
  f64x2Add(): this { return this.simd(0xf0); }
  f64x2Mul(): this { return this.simd(0xf2); }
  f64x2ExtractLane(lane: number): this { return this.simd(0x21, lane); }
  /** i8x16.shuffle that moves the high two f32 lanes to the low ones. */
  f32x4HighHalf(): this { return this.simd(0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15); }
  v128Zero(): this { return this.simd(0x0c, ...new Array<number>(16).fill(0)); }
  /** i8x16.shuffle of two f32x4 vectors by lane: lanes 0-3 pick from the first, 4-7 from the second. */
  f32x4Shuffle(lanes: [number, number, number, number]): this {
    return this.simd(0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));
  }
  /** f32x4.relaxed_madd(a, b, c) = a * b + c, fused or not (relaxed SIMD; check support first). */
  f32x4RelaxedMadd(): this { return this.simd(0x105); }
  /**
   * acc = acc + a * b on three v128 locals: one relaxed_madd when `fused`, else mul and add.
   */
  madd(acc: Local, a: Local, b: Local, fused: boolean): this {
    if (fused) return this.get(a).get(b).get(acc).f32x4RelaxedMadd().set(acc);
    return this.get(acc).get(a).get(b).f32x4Mul().f32x4Add().set(acc);
  }
  /** A v128 constant with all bits set in its first `lanes` 32-bit lanes. */
  v128LaneMask(lanes: number): this {
    return this.simd(0x0c, ...Array.from({ length: 16 }, (_, i) => (i < 4 * lanes ? 0xff : 0)));
  }

  /** select(a, b, cond): a when cond != 0, else b. */
  select(): this { return this.op(0x1b); }
  drop(): this { return this.op(0x1a); }

  /** memory.copy(dest, src, bytes) with the three on the stack (bulk memory). */
  memoryCopy(): this { return this.op(0xfc, 0x0a, 0x00, 0x00); }
  /** memory.fill(dest, byte, bytes) with the three on the stack (bulk memory). */
  memoryFill(): this { return this.op(0xfc, 0x0b, 0x00); }

  /** local += delta (i32). */
  inc(l: Local, delta: number): this {
    if (delta === 0) return this;
    return this.get(l).i32(delta).add().set(l);
  }

  /** block ... end */
  block(body: () => void): this {
    this.op(0x02, 0x40);
    body();
    return this.op(0x0b);
  }

  /** loop ... end (branch depth 0 inside `body` continues the loop). */
  loop(body: () => void): this {
    this.op(0x03, 0x40);
    body();
    return this.op(0x0b);
  }

  /** if (top of stack != 0) { then } [else { otherwise }] */
  ifThen(then: () => void, otherwise?: () => void): this {
    this.op(0x04, 0x40);
    then();
    if (otherwise !== undefined) {
      this.op(0x05);
      otherwise();
    }
    return this.op(0x0b);
  }

  br(depth: number): this { this.op(0x0c); uleb(depth, this.code); return this; }
  brIf(depth: number): this { this.op(0x0d); uleb(depth, this.code); return this; }

  /**
   * for (i = 0; i < count(); i++) body(), where count pushes an i32; the body
   * runs nowhere when count <= 0.
   */
  forCount(i: Local, count: () => void, body: () => void): this {
    const n = this.local('i32');
    count();
    this.set(n).i32(0).set(i);
    return this.block(() => {
      this.get(n).i32(0).leS().brIf(0);
      this.loop(() => {
        body();
        this.inc(i, 1).get(i).get(n).ltS().brIf(0);
      });
    });
  }

  /** for (i = 0; i < n; i++) body() with a constant n. */
  forConst(i: Local, n: number, body: () => void): this {
    if (n <= 0) return this;
    this.i32(0).set(i);
    return this.loop(() => {
      body();
      this.inc(i, 1).get(i).i32(n).ltS().brIf(0);
    });
  }

  /** The function's body as it goes in the code section. */
  encode(): number[] {
    const out: number[] = [];
    const groups: [number, ValType][] = [];
    for (const t of this.extra) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(groups.length, out);
    for (const [count, t] of groups) {
      uleb(count, out);
      out.push(TYPE_CODE[t]);
    }
    for (const b of this.code) out.push(b);
    out.push(0x0b);
    const body: number[] = [];
    uleb(out.length, body);
    return body.concat(out);
  }

  signature(): number[] {
    const out = [0x60];
    uleb(this.params.length, out);
    for (const p of this.params) out.push(TYPE_CODE[p.type]);
    out.push(0);
    return out;
  }
}

function section(id: number, content: number[], out: number[]): void {
  out.push(id);
  uleb(content.length, out);
  for (const b of content) out.push(b);
}

/** Pages a shared memory's import declares at most (4 GiB): any shared memory up to that size fits it. */
const SHARED_MAX_PAGES = 65536;

const IMPORT_SECTION = 2;

/** The import section's content: env.memory, shared (up to SHARED_MAX_PAGES) or not. */
function memoryImport(shared: boolean): number[] {
  const imports: number[] = [1];
  name('env', imports);
  name('memory', imports);
  imports.push(0x02);
  if (shared) {
    imports.push(0x03, 0x00);
    uleb(SHARED_MAX_PAGES, imports);
  } else {
    imports.push(0x00, 0x00);
  }
  return imports;
}

/** Module bytes from `assemble` with their memory import made shared (the other sections as they were). */
function withSharedMemoryImport(bytes: Uint8Array): Uint8Array {
  const out = Array.from(bytes.subarray(0, 8));
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[at++];
      size |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
    }
    const content = id === IMPORT_SECTION ? memoryImport(true) : Array.from(bytes.subarray(at, at + size));
    section(id, content, out);
    at += size;
  }
  return new Uint8Array(out);
}

/** Assembles functions (no results) importing env.memory (unshared; `compile` adapts it to a shared one) into module bytes. */
export function assemble(funcs: Func[]): Uint8Array {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(funcs.length, types);
  for (const f of funcs) types.push(...f.signature());
  section(1, types, out);
  section(IMPORT_SECTION, memoryImport(false), out);
  const fns: number[] = [];
  uleb(funcs.length, fns);
  funcs.forEach((_, i) => uleb(i, fns));
  section(3, fns, out);
  const exps: number[] = [];
  uleb(funcs.length, exps);
  funcs.forEach((f, i) => {
    name(f.exportName, exps);
    exps.push(0x00);
    uleb(i, exps);
  });
  section(7, exps, out);
  const code: number[] = [];
  uleb(funcs.length, code);
  for (const f of funcs) code.push(...f.encode());
  section(10, code, out);
  return new Uint8Array(out);
}

/** Compiles and instantiates against `memory`; returns the exported functions. */
export function instantiate(bytes: Uint8Array, memory: WasmMemory): Record<string, (...args: number[]) => void> {
  return instantiateModule(compile(bytes, memory), memory);
}

/** Compiles module bytes for `memory`: importing it as shared where it is a shared memory (a shared wasm heap), else as unshared. */
export function compile(bytes: Uint8Array, memory: WasmMemory): object {
  return new WA.Module(isShared(memory) ? withSharedMemoryImport(bytes) : bytes);
}

/** Instantiates a compiled module against `memory`; returns the exported functions. */
export function instantiateModule(module: object, memory: WasmMemory): Record<string, (...args: number[]) => void> {
  const instance = new WA.Instance(module, { env: { memory } });
  return instance.exports as unknown as Record<string, (...args: number[]) => void>;
}

/** True for a WebAssembly.Memory created with `shared: true`. */
export function isShared(memory: WasmMemory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}
