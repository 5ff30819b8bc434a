/**
 * A small WebAssembly bytecode emitter: enough of the binary format to write numeric kernels
 * from TypeScript at run time (no build step, no binary blobs).
 *
 * Kernels are written as statements on a {@link Code} body whose arguments are expressions,
 * and an expression ({@link Expr}) is a function that pushes its value on the wasm stack.
 * Composing expressions keeps a generator readable (`c.set(p, add(get(p), i32(32)))`) while
 * emitting exactly the stack code one would write by hand.
 *
 * Spec: https://webassembly.github.io/spec/core/binary/ (plus the SIMD, relaxed-SIMD and
 * threads proposals for the 0xfd and 0xfe prefixed opcodes).
 */

/** Value types as the binary format spells them. */
export const ValType = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
/** One of the {@link ValType} codes. */
export type ValType = (typeof ValType)[keyof typeof ValType];

/** Unsigned LEB128, the format's encoding of indices, sizes and memarg fields. */
export function uleb128(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`uleb128: expected an integer in [0, 2^32), got ${value}`);
  }
  const out: number[] = [];
  let v = value;
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128, the encoding of `i32.const` immediates. */
export function sleb128(value: number): number[] {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0xffffffff) {
    throw new RangeError(`sleb128: expected a 32-bit integer, got ${value}`);
  }
  const out: number[] = [];
  let v = value | 0; // i32.const takes the two's-complement bits, so 0xffffffff means -1
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function encodeString(s: string): number[] {
  const bytes = Array.from(new TextEncoder().encode(s));
  return [...uleb128(bytes.length), ...bytes];
}

/** A vector in the binary format: its length, then its items. */
function encodeVector(items: readonly number[][]): number[] {
  return [...uleb128(items.length), ...items.flat()];
}

/** Single-byte opcodes used by the kernels. */
export const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  br_if: 0x0d,
  return: 0x0f,
  call: 0x10,
  select: 0x1b,
  local_get: 0x20,
  local_set: 0x21,
  i32_load: 0x28,
  f32_load: 0x2a,
  i32_store: 0x36,
  f32_store: 0x38,
  i32_const: 0x41,
  f32_const: 0x43,
  f64_const: 0x44,
  i32_eqz: 0x45,
  i32_eq: 0x46,
  i32_ne: 0x47,
  i32_lt_s: 0x48,
  i32_lt_u: 0x49,
  i32_gt_s: 0x4a,
  i32_gt_u: 0x4b,
  i32_le_s: 0x4c,
  i32_le_u: 0x4d,
  i32_ge_s: 0x4e,
  i32_ge_u: 0x4f,
  f32_eq: 0x5b,
  f32_ne: 0x5c,
  f32_gt: 0x5e,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_mul: 0x6c,
  i32_div_u: 0x6e,
  i32_rem_u: 0x70,
  i32_and: 0x71,
  i32_or: 0x72,
  i32_shl: 0x74,
  i32_shr_u: 0x76,
  f32_add: 0x92,
  f64_add: 0xa0,
  f32_demote_f64: 0xb6,
  f64_promote_f32: 0xbb,
} as const;

/** SIMD opcodes: prefix 0xfd, then this number as LEB128. */
export const SimdOp = {
  v128_load: 0,
  v128_load32_splat: 9,
  v128_store: 11,
  v128_const: 12,
  i8x16_shuffle: 13,
  f32x4_splat: 19,
  i32x4_extract_lane: 27,
  f32x4_extract_lane: 31,
  f32x4_eq: 65,
  f32x4_ne: 66,
  f32x4_lt: 67,
  f32x4_gt: 68,
  v128_not: 77,
  v128_and: 78,
  v128_andnot: 79,
  v128_or: 80,
  v128_bitselect: 82,
  i32x4_shl: 171,
  i32x4_shr_s: 172,
  i32x4_add: 174,
  i32x4_sub: 177,
  f32x4_abs: 224,
  f32x4_neg: 225,
  f32x4_sqrt: 227,
  f32x4_add: 228,
  f32x4_sub: 229,
  f32x4_mul: 230,
  f32x4_div: 231,
  f32x4_min: 232,
  f32x4_max: 233,
  /** Relaxed SIMD: a*b+c, fused or not as the hardware prefers (x86 with FMA: fused). */
  f32x4_relaxed_madd: 261,
} as const;

/** Threads-proposal opcodes: prefix 0xfe, then this number as LEB128. */
export const AtomicOp = {
  i32_atomic_load: 0x10,
  i32_atomic_rmw_add: 0x1e,
  i32_atomic_rmw_cmpxchg: 0x48,
} as const;

const SIMD_PREFIX = 0xfd;
const ATOMIC_PREFIX = 0xfe;
const BLOCK_VOID = 0x40;

/** A local variable (or parameter) of the function being built. */
export interface Local {
  readonly index: number;
  readonly type: ValType;
}

/** An expression: emits code that leaves exactly one value on the stack. */
export type Expr = (c: Code) => void;

/** A function body under construction: a byte buffer plus structured-control helpers. */
export class Code {
  readonly bytes: number[] = [];
  /** Nesting depth of open blocks, so helpers can compute branch targets. */
  private depth = 0;

  constructor(private readonly fn: FunctionBuilder) {}

  /** Appends raw bytes (an opcode and its immediates). */
  emit(...bytes: number[]): this {
    for (const b of bytes) this.bytes.push(b);
    return this;
  }

  /** Appends a 0xfd-prefixed (SIMD) instruction. */
  simd(op: number, ...immediates: number[]): this {
    return this.emit(SIMD_PREFIX, ...uleb128(op), ...immediates);
  }

  /** Appends a 0xfe-prefixed (threads) instruction. */
  atomic(op: number, ...immediates: number[]): this {
    return this.emit(ATOMIC_PREFIX, ...uleb128(op), ...immediates);
  }

  /** Emits each expression in order (pushes their values). */
  push(...exprs: Expr[]): this {
    for (const e of exprs) e(this);
    return this;
  }

  /** Declares a new local of the given type. */
  local(type: ValType = ValType.i32): Local {
    return this.fn.addLocal(type);
  }

  /** `l = value`. */
  set(l: Local, value: Expr): this {
    value(this);
    return this.emit(Op.local_set, ...uleb128(l.index));
  }

  /** `i32.store` / `f32.store` / `v128.store`, chosen by `kind`. */
  store(kind: "i32" | "f32" | "v128", addr: Expr, value: Expr, offset = 0): this {
    addr(this);
    value(this);
    if (kind === "v128") return this.simd(SimdOp.v128_store, ...memarg(4, offset));
    return this.emit(kind === "i32" ? Op.i32_store : Op.f32_store, ...memarg(2, offset));
  }

  /** Calls a function with the given arguments; a result, if any, is left on the stack. */
  call(callee: FunctionBuilder, ...args: Expr[]): this {
    this.push(...args);
    return this.emit(Op.call, ...uleb128(callee.index));
  }

  /** `return value`. */
  returnValue(value: Expr): this {
    value(this);
    return this.emit(Op.return);
  }

  /** `if cond { then } else { otherwise }` (no result). */
  if(cond: Expr, then: () => void, otherwise?: () => void): this {
    cond(this);
    this.emit(Op.if, BLOCK_VOID);
    this.depth++;
    then();
    if (otherwise) {
      this.emit(Op.else);
      otherwise();
    }
    this.depth--;
    return this.emit(Op.end);
  }

  /**
   * `while (cond) body`. The body receives `breakOut` and `continueLoop`, which emit
   * branches to leave or restart the loop from any nesting depth inside it.
   */
  while(cond: Expr, body: (ctl: LoopControl) => void): this {
    this.emit(Op.block, BLOCK_VOID);
    const blockDepth = ++this.depth;
    this.emit(Op.loop, BLOCK_VOID);
    const loopDepth = ++this.depth;
    i32_eqz(cond)(this);
    this.emit(Op.br_if, 1);
    body({
      breakOut: () => this.emit(Op.br, ...uleb128(this.depth - blockDepth)),
      continueLoop: () => this.emit(Op.br, ...uleb128(this.depth - loopDepth)),
    });
    this.emit(Op.br, 0);
    this.depth -= 2;
    return this.emit(Op.end, Op.end);
  }

  /**
   * `do body while (cond)`: the cheapest loop (one conditional branch per trip), for hot
   * loops whose trip count the caller knows to be at least one.
   */
  doWhile(body: () => void, cond: Expr): this {
    this.emit(Op.loop, BLOCK_VOID);
    this.depth++;
    body();
    cond(this);
    this.emit(Op.br_if, 0);
    this.depth--;
    return this.emit(Op.end);
  }

  /**
   * `for (v = from; v < to; v += step) body` on i32 (signed compare). The body gets no
   * LoopControl: a `continue` would skip the step.
   */
  for(v: Local, from: Expr, to: Expr, step: number, body: () => void): this {
    this.set(v, from);
    return this.while(i32_lt_s(get(v), to), () => {
      body();
      this.set(v, i32_add(get(v), i32(step)));
    });
  }
}

/** Branches out of, or back to the top of, the innermost {@link Code.while}. */
export interface LoopControl {
  breakOut(): void;
  continueLoop(): void;
}

/** A memory immediate: log2 of the alignment, then the constant byte offset. */
function memarg(alignLog2: number, offset: number): number[] {
  return [...uleb128(alignLog2), ...uleb128(offset)];
}

// ---- expressions ------------------------------------------------------------------------

/** Reads a local. */
export const get =
  (l: Local): Expr =>
  (c) =>
    c.emit(Op.local_get, ...uleb128(l.index));
/** An i32 constant. */
export const i32 =
  (n: number): Expr =>
  (c) =>
    c.emit(Op.i32_const, ...sleb128(n));
/** An f32 constant. */
export const f32 =
  (x: number): Expr =>
  (c) => {
    const b = new Uint8Array(new Float32Array([x]).buffer);
    c.emit(Op.f32_const, ...b);
  };

const binary =
  (op: number) =>
  (a: Expr, b: Expr): Expr =>
  (c) => {
    a(c);
    b(c);
    c.emit(op);
  };
const unary =
  (op: number) =>
  (a: Expr): Expr =>
  (c) => {
    a(c);
    c.emit(op);
  };

/** i32 addition (wrapping). */
export const i32_add = binary(Op.i32_add);
/** i32 subtraction (wrapping). */
export const i32_sub = binary(Op.i32_sub);
/** i32 multiplication (wrapping). */
export const i32_mul = binary(Op.i32_mul);
/** Unsigned i32 division. */
export const i32_div_u = binary(Op.i32_div_u);
/** Unsigned i32 remainder. */
export const i32_rem_u = binary(Op.i32_rem_u);
/** Bitwise and. */
export const i32_and = binary(Op.i32_and);
/** Bitwise or. */
export const i32_or = binary(Op.i32_or);
/** Shift left. */
export const i32_shl = binary(Op.i32_shl);
/** Logical shift right. */
export const i32_shr_u = binary(Op.i32_shr_u);
/** `a == b` as 0 or 1. */
export const i32_eq = binary(Op.i32_eq);
/** `a != b` as 0 or 1. */
export const i32_ne = binary(Op.i32_ne);
/** Signed `a < b` as 0 or 1. */
export const i32_lt_s = binary(Op.i32_lt_s);
/** Signed `a > b` as 0 or 1. */
export const i32_gt_s = binary(Op.i32_gt_s);
/** Unsigned `a < b` as 0 or 1. */
export const i32_lt_u = binary(Op.i32_lt_u);
/** Signed `a >= b` as 0 or 1. */
export const i32_ge_s = binary(Op.i32_ge_s);
/** Unsigned `a >= b` as 0 or 1. */
export const i32_ge_u = binary(Op.i32_ge_u);
/** `a == 0` as 0 or 1. */
export const i32_eqz = unary(Op.i32_eqz);
/** f32 addition. */
export const f32_add = binary(Op.f32_add);
/** f32 `a == b` as 0 or 1 (false for NaN). */
export const f32_eq = binary(Op.f32_eq);
/** f32 `a != b` as 0 or 1 (true for NaN). */
export const f32_ne = binary(Op.f32_ne);
/** f32 `a > b` as 0 or 1. */
export const f32_gt = binary(Op.f32_gt);
/** f64 addition. */
export const f64_add = binary(Op.f64_add);
/** f32 widened to f64 (exact). */
export const f64_promote_f32 = unary(Op.f64_promote_f32);
/** f64 rounded to f32. */
export const f32_demote_f64 = unary(Op.f32_demote_f64);
/** An f64 constant. */
export const f64 =
  (x: number): Expr =>
  (c) => {
    const b = new Uint8Array(new Float64Array([x]).buffer);
    c.emit(Op.f64_const, ...b);
  };
/** `cond ? a : b` without a branch (both sides are evaluated). */
export const select =
  (a: Expr, b: Expr, cond: Expr): Expr =>
  (c) => {
    a(c);
    b(c);
    cond(c);
    c.emit(Op.select);
  };
/** Signed minimum; evaluates each operand twice, so pass locals or constants. */
export const i32_min_s = (a: Expr, b: Expr): Expr => select(a, b, i32_lt_s(a, b));

/** `i32.load` / `f32.load` at `addr + offset`. */
export const i32_load =
  (addr: Expr, offset = 0): Expr =>
  (c) => {
    addr(c);
    c.emit(Op.i32_load, ...memarg(2, offset));
  };
/** `f32.load` at `addr + offset`. */
export const f32_load =
  (addr: Expr, offset = 0): Expr =>
  (c) => {
    addr(c);
    c.emit(Op.f32_load, ...memarg(2, offset));
  };

/** Atomic (sequentially consistent) i32 load of the threads proposal. */
export const i32_atomic_load =
  (addr: Expr, offset = 0): Expr =>
  (c) => {
    addr(c);
    c.atomic(AtomicOp.i32_atomic_load, ...memarg(2, offset));
  };
/** Adds `value` at `addr` atomically; yields the old value. */
export const i32_atomic_rmw_add =
  (addr: Expr, value: Expr, offset = 0): Expr =>
  (c) => {
    addr(c);
    value(c);
    c.atomic(AtomicOp.i32_atomic_rmw_add, ...memarg(2, offset));
  };
/** Stores `replacement` at `addr` if it holds `expected`; yields the old value either way. */
export const i32_atomic_cmpxchg =
  (addr: Expr, expected: Expr, replacement: Expr, offset = 0): Expr =>
  (c) => {
    addr(c);
    expected(c);
    replacement(c);
    c.atomic(AtomicOp.i32_atomic_rmw_cmpxchg, ...memarg(2, offset));
  };

/** Loads 16 bytes (four f32). */
export const v128_load =
  (addr: Expr, offset = 0): Expr =>
  (c) => {
    addr(c);
    c.simd(SimdOp.v128_load, ...memarg(4, offset));
  };
/** Loads one f32 and broadcasts it to all four lanes (one instruction on x86). */
export const v128_load32_splat =
  (addr: Expr, offset = 0): Expr =>
  (c) => {
    addr(c);
    c.simd(SimdOp.v128_load32_splat, ...memarg(2, offset));
  };
/** The all-zero vector. */
export const v128_zero: Expr = (c) => c.simd(SimdOp.v128_const, ...new Array<number>(16).fill(0));
/** Broadcasts an f32 to four lanes. */
export const f32x4_splat =
  (a: Expr): Expr =>
  (c) => {
    a(c);
    c.simd(SimdOp.f32x4_splat);
  };
/** One i32 lane (0..3) of a vector. */
export const i32x4_extract_lane =
  (v: Expr, lane: number): Expr =>
  (c) => {
    v(c);
    c.simd(SimdOp.i32x4_extract_lane, lane);
  };
/** One f32 lane (0..3) of a vector. */
export const f32x4_extract_lane =
  (v: Expr, lane: number): Expr =>
  (c) => {
    v(c);
    c.simd(SimdOp.f32x4_extract_lane, lane);
  };
/** Lane-wise f32 addition. */
export const f32x4_add =
  (a: Expr, b: Expr): Expr =>
  (c) => {
    a(c);
    b(c);
    c.simd(SimdOp.f32x4_add);
  };
/** Lane-wise f32 multiplication. */
export const f32x4_mul =
  (a: Expr, b: Expr): Expr =>
  (c) => {
    a(c);
    b(c);
    c.simd(SimdOp.f32x4_mul);
  };
/** `a*b + c` in one relaxed-SIMD instruction. */
export const f32x4_relaxed_madd =
  (a: Expr, b: Expr, acc: Expr): Expr =>
  (c) => {
    a(c);
    b(c);
    acc(c);
    c.simd(SimdOp.f32x4_relaxed_madd);
  };

/**
 * `a*b + acc` as the SIMD flavour allows: one fused relaxed-SIMD instruction, or a multiply then
 * an add (the kernels generated for either flavour share this, so they round alike).
 */
export const f32x4_madd = (flavour: "relaxed" | "standard", a: Expr, b: Expr, acc: Expr): Expr =>
  flavour === "relaxed" ? f32x4_relaxed_madd(a, b, acc) : f32x4_add(f32x4_mul(a, b), acc);

const simdBinary =
  (op: number) =>
  (a: Expr, b: Expr): Expr =>
  (c) => {
    a(c);
    b(c);
    c.simd(op);
  };
const simdUnary =
  (op: number) =>
  (a: Expr): Expr =>
  (c) => {
    a(c);
    c.simd(op);
  };

/** Lane-wise f32 subtraction. */
export const f32x4_sub = simdBinary(SimdOp.f32x4_sub);
/** Lane-wise f32 division (correctly rounded). */
export const f32x4_div = simdBinary(SimdOp.f32x4_div);
/** Lane-wise f32 minimum (NaN if either lane is NaN). */
export const f32x4_min = simdBinary(SimdOp.f32x4_min);
/** Lane-wise f32 maximum (NaN if either lane is NaN). */
export const f32x4_max = simdBinary(SimdOp.f32x4_max);
/** Lane mask (all ones or zeros) of `a == b`. */
export const f32x4_eq = simdBinary(SimdOp.f32x4_eq);
/** Lane mask of `a != b` (true for NaN). */
export const f32x4_ne = simdBinary(SimdOp.f32x4_ne);
/** Lane mask of `a < b`. */
export const f32x4_lt = simdBinary(SimdOp.f32x4_lt);
/** Lane mask of `a > b`. */
export const f32x4_gt = simdBinary(SimdOp.f32x4_gt);
/** Bitwise and. */
export const v128_and = simdBinary(SimdOp.v128_and);
/** `a & ~b`. */
export const v128_andnot = simdBinary(SimdOp.v128_andnot);
/** Bitwise or. */
export const v128_or = simdBinary(SimdOp.v128_or);
/** Bitwise not. */
export const v128_not = simdUnary(SimdOp.v128_not);
/** Lane-wise i32 addition. */
export const i32x4_add = simdBinary(SimdOp.i32x4_add);
/** Lane-wise i32 subtraction. */
export const i32x4_sub = simdBinary(SimdOp.i32x4_sub);
/** Lane-wise f32 negation. */
export const f32x4_neg = simdUnary(SimdOp.f32x4_neg);
/** Lane-wise f32 absolute value. */
export const f32x4_abs = simdUnary(SimdOp.f32x4_abs);
/** Lane-wise f32 square root. */
export const f32x4_sqrt = simdUnary(SimdOp.f32x4_sqrt);
/** Shifts every i32 lane left by an i32 count. */
export const i32x4_shl = simdBinary(SimdOp.i32x4_shl);
/** Shifts every i32 lane right (arithmetic) by an i32 count. */
export const i32x4_shr_s = simdBinary(SimdOp.i32x4_shr_s);
/** `mask ? a : b` bit by bit. */
export const v128_bitselect =
  (a: Expr, b: Expr, mask: Expr): Expr =>
  (c) => {
    a(c);
    b(c);
    mask(c);
    c.simd(SimdOp.v128_bitselect);
  };
/** Picks 16 bytes from the 32 of `a` (0-15) and `b` (16-31). */
export const i8x16_shuffle =
  (a: Expr, b: Expr, lanes: readonly number[]): Expr =>
  (c) => {
    if (lanes.length !== 16 || lanes.some((l) => !Number.isInteger(l) || l < 0 || l > 31)) {
      throw new RangeError(`i8x16_shuffle: expected 16 lane indices in [0, 31], got [${lanes.join(",")}]`);
    }
    a(c);
    b(c);
    c.simd(SimdOp.i8x16_shuffle, ...lanes);
  };
/** Picks f32 lanes: 0-3 from `a`, 4-7 from `b`. */
export const f32x4_shuffle = (a: Expr, b: Expr, lanes: readonly [number, number, number, number]): Expr =>
  i8x16_shuffle(
    a,
    b,
    lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]),
  );
/** A constant vector of four f32. */
export const f32x4_const =
  (x: number, y = x, z = x, w = x): Expr =>
  (c) => {
    c.simd(SimdOp.v128_const, ...new Uint8Array(new Float32Array([x, y, z, w]).buffer));
  };
/** A constant vector of four i32. */
export const i32x4_const =
  (x: number, y = x, z = x, w = x): Expr =>
  (c) => {
    c.simd(SimdOp.v128_const, ...new Uint8Array(new Int32Array([x, y, z, w]).buffer));
  };

// ---- module -----------------------------------------------------------------------------

/** A function being built: its signature, locals and body. */
export class FunctionBuilder {
  readonly params: Local[];
  readonly body: Code;
  private readonly extraLocals: ValType[] = [];

  constructor(
    readonly index: number,
    readonly name: string,
    readonly paramTypes: readonly ValType[],
    readonly resultTypes: readonly ValType[],
    readonly exported: boolean,
  ) {
    this.params = paramTypes.map((type, index) => ({ index, type }));
    this.body = new Code(this);
  }

  /** Declares a local after the parameters (use {@link Code.local} in generators). */
  addLocal(type: ValType): Local {
    this.extraLocals.push(type);
    return { index: this.paramTypes.length + this.extraLocals.length - 1, type };
  }

  /** The function's entry in the code section: locals (run-length encoded), body, `end`. */
  encode(): number[] {
    const runs: number[][] = [];
    for (let i = 0; i < this.extraLocals.length; ) {
      let j = i;
      while (j < this.extraLocals.length && this.extraLocals[j] === this.extraLocals[i]) j++;
      runs.push([...uleb128(j - i), this.extraLocals[i] as number]);
      i = j;
    }
    const fn = [...encodeVector(runs), ...this.body.bytes, Op.end];
    return [...uleb128(fn.length), ...fn];
  }
}

/** Limits of an imported memory (in 64 KiB pages). */
export interface MemoryLimits {
  readonly initial: number;
  readonly maximum: number;
  readonly shared: boolean;
}

/** Assembles a module: imported memory, functions, exports. */
export class ModuleBuilder {
  private readonly functions: FunctionBuilder[] = [];
  private memoryImport: { module: string; name: string; limits: MemoryLimits } | undefined;

  /** Imports the module's (only) linear memory. */
  importMemory(module: string, name: string, limits: MemoryLimits): void {
    this.memoryImport = { module, name, limits };
  }

  /**
   * Declares a function; write its body through `fn.body` before {@link toBytes}. Functions
   * are numbered in declaration order, so a callee must be declared before its callers.
   */
  function(name: string, params: readonly ValType[], results: readonly ValType[] = [], options: { export?: boolean } = {}): FunctionBuilder {
    const fn = new FunctionBuilder(this.functions.length, name, params, results, options.export ?? true);
    this.functions.push(fn);
    return fn;
  }

  /** The binary module. */
  toBytes(): Uint8Array {
    const signatures: string[] = [];
    const typeOf = this.functions.map((fn) => {
      const key = `${fn.paramTypes.join(",")}->${fn.resultTypes.join(",")}`;
      let index = signatures.indexOf(key);
      if (index < 0) index = signatures.push(key) - 1;
      return index;
    });
    const typeEntries = signatures.map((key) => {
      const [params = "", results = ""] = key.split("->");
      const list = (s: string) => (s === "" ? [] : s.split(",").map(Number));
      return [0x60, ...encodeVector(list(params).map((t) => [t])), ...encodeVector(list(results).map((t) => [t]))];
    });

    const sections: number[][] = [];
    const section = (id: number, payload: number[]) => sections.push([id, ...uleb128(payload.length), ...payload]);

    section(1, encodeVector(typeEntries));
    if (this.memoryImport) {
      const { module, name, limits } = this.memoryImport;
      // limits flag: bit 0 = has maximum, bit 1 = shared (the threads proposal)
      const flag = 0x01 | (limits.shared ? 0x02 : 0);
      const entry = [
        ...encodeString(module),
        ...encodeString(name),
        0x02, // import kind: memory
        flag,
        ...uleb128(limits.initial),
        ...uleb128(limits.maximum),
      ];
      section(2, encodeVector([entry]));
    }
    section(3, encodeVector(typeOf.map((t) => uleb128(t))));
    const exports = this.functions.filter((fn) => fn.exported).map((fn) => [...encodeString(fn.name), 0x00, ...uleb128(fn.index)]);
    section(7, encodeVector(exports));
    section(10, encodeVector(this.functions.map((fn) => fn.encode())));

    const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]; // "\0asm", version 1
    return Uint8Array.from([...header, ...sections.flat()]);
  }
}
