/**
 * Shared pieces of the generated WGSL: how each dtype is loaded from and stored to 32-bit words,
 * conversions between dtypes, the parameter block, binding declarations and grid helpers.
 *
 * Every storage binding is `array<u32>` and values are bitcast on load/store. That lets one binding
 * serve an operand of any dtype, so a buffer that appears twice in a dispatch (x * x, or an output
 * aliasing an input) is bound once: WebGPU rejects two writable bindings of one buffer.
 */
import type { WebGPUBuffer } from "../buffer.js";
import type { DType } from "../contract.js";
import type { StorageBinding } from "../encoder.js";
import { WebGPULimitError } from "../errors.js";

/** Threads per workgroup of the 1-D kernels (the WebGPU default limit for invocations). */
export const WG = 256;

/** An element type as a kernel sees it: a dtype, or `word` for raw 32-bit copies. */
export type Elem = DType | "word";

/** The WGSL scalar type computing with values of `e`. */
export function wgslType(e: Elem): "f32" | "i32" | "u32" {
  return e === "float32" ? "f32" : e === "int32" ? "i32" : "u32";
}

/** WGSL expression loading element `idx` of binding `arr` as `e`. */
export function load(e: Elem, arr: string, idx: string): string {
  if (e === "float32") return `bitcast<f32>(${arr}[${idx}])`;
  if (e === "int32") return `bitcast<i32>(${arr}[${idx}])`;
  return `${arr}[${idx}]`;
}

/** WGSL statement storing value `v` (of `e`'s WGSL type) at element `idx` of `arr`. */
export function store(e: Elem, arr: string, idx: string, v: string): string {
  if (e === "float32" || e === "int32") return `${arr}[${idx}] = bitcast<u32>(${v});`;
  return `${arr}[${idx}] = ${v};`;
}

/** The zero literal of `e`'s WGSL type. */
export function zero(e: Elem): string {
  return e === "float32" ? "0.0" : e === "int32" ? "0" : "0u";
}

/**
 * Converts expression `v` from `from` to `to` following the contract: float -> int truncates toward
 * zero and wraps like JS `x | 0` (NaN and infinities -> 0), anything -> bool is `!= 0` (NaN -> true).
 * Float comparisons are written `!(a == b)` because Tint lowers `!=` to an ordered compare that is
 * false for NaN.
 */
export function convert(v: string, from: Elem, to: Elem): string {
  if (from === to || to === "word" || from === "word") return v;
  if (to === "float32") return `f32(${v})`;
  if (to === "int32") return from === "float32" ? `f2i(${v})` : `i32(${v})`;
  // to bool
  return from === "float32" ? `select(0u, 1u, !(${v} == 0.0))` : `select(0u, 1u, ${v} != 0)`;
}

/** Helper functions every kernel may reference (unused ones are dropped by the compiler). */
export const COMMON_WGSL = /* wgsl */ `
fn isnan_f(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn f2i(x: f32) -> i32 {
  // WGSL's i32(x) saturates; the contract (like JS x | 0) wraps modulo 2^32 and maps NaN/inf to 0.
  if ((bitcast<u32>(x) & 0x7fffffffu) >= 0x7f800000u) { return 0; }
  let t = trunc(x);
  if (abs(t) < 2147483648.0) { return i32(t); }
  let hi = floor(t / 4294967296.0);
  return bitcast<i32>(u32(t - hi * 4294967296.0));
}
fn inf_f() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }
fn nan_f() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }
`;

/** Collects a dispatch's parameters (u32 words; i32 and f32 stored by bit pattern). */
export class ParamBuilder {
  private readonly words: number[] = [];
  private static readonly scratch = new DataView(new ArrayBuffer(4));

  /** Appends an unsigned word and returns its index. */
  u(v: number): number {
    this.words.push(v >>> 0);
    return this.words.length - 1;
  }

  /** Appends a signed word (two's complement) and returns its index. */
  i(v: number): number {
    this.words.push(v | 0);
    return this.words.length - 1;
  }

  /** Appends the bits of a float32 and returns its index. */
  f(v: number): number {
    ParamBuilder.scratch.setFloat32(0, v, true);
    return this.u(ParamBuilder.scratch.getUint32(0, true));
  }

  /** Number of words so far. */
  get length(): number {
    return this.words.length;
  }

  /** The words, ready for upload. */
  data(): Uint32Array {
    return Uint32Array.from(this.words, (w) => w >>> 0);
  }
}

/** Declares the uniform parameter block (binding 0) with accessors P (u32), Pi (i32), Pf (f32). */
export function paramsDecl(words: number): string {
  const vecs = Math.max(1, Math.ceil(words / 4));
  return /* wgsl */ `
@group(0) @binding(0) var<uniform> params: array<vec4<u32>, ${vecs}>;
fn P(i: u32) -> u32 { return params[i >> 2u][i & 3u]; }
fn Pi(i: u32) -> i32 { return bitcast<i32>(P(i)); }
fn Pf(i: u32) -> f32 { return bitcast<f32>(P(i)); }
`;
}

/**
 * The storage bindings of one dispatch, deduplicated by GPU buffer. A buffer written anywhere in
 * the dispatch is declared read_write and bound once, even if the kernel also reads it.
 */
export class BindingSet {
  private readonly entries: Array<{ buffer: GPUBuffer; bytes: number; write: boolean; vec4: boolean }> = [];
  private readonly uses: number[] = [];

  /** Binds `b` (reusing an earlier binding of the same GPU buffer) and returns its WGSL name. */
  use(b: WebGPUBuffer | { gpu: GPUBuffer; bindBytes: number }, write = false): string {
    let k = this.entries.findIndex((e) => e.buffer === b.gpu && !e.vec4);
    if (k < 0) {
      k = this.entries.length;
      this.entries.push({ buffer: b.gpu, bytes: b.bindBytes, write, vec4: false });
    } else {
      const e = this.entries[k]!;
      e.write ||= write;
      e.bytes = Math.max(e.bytes, b.bindBytes);
    }
    this.uses.push(k);
    return `b${k}`;
  }

  /**
   * Binds the whole of `b`'s GPU buffer a second time, read-only, as `array<vec4<u32>>`, and
   * returns its WGSL name; null when that is not possible (the buffer is written by this dispatch,
   * or its size is not a whole number of vec4s). One vec4 load costs about as much as one scalar
   * load on software adapters, so kernels read contiguous runs through this view.
   */
  useVec4(b: WebGPUBuffer, writtenByDispatch: boolean): string | null {
    if (writtenByDispatch || b.gpu.size % 16 !== 0) return null;
    let k = this.entries.findIndex((e) => e.buffer === b.gpu && e.vec4);
    if (k < 0) {
      k = this.entries.length;
      this.entries.push({ buffer: b.gpu, bytes: b.gpu.size, write: false, vec4: true });
    }
    this.uses.push(k);
    return `b${k}`;
  }

  /** Specialisation key: which operand landed in which binding, and which bindings are written. */
  key(): string {
    return `${this.uses.join(",")}/${this.entries.map((e) => (e.write ? "w" : "r") + (e.vec4 ? "4" : "")).join("")}`;
  }

  /** The layout pattern: `w` or `r` per binding. */
  layoutKey(): string {
    return this.entries.map((e) => (e.write ? "w" : "r")).join("");
  }

  /** WGSL declarations of the bindings (binding 0 is the parameter block). */
  decls(): string {
    return this.entries
      .map((e, k) => `@group(0) @binding(${k + 1}) var<storage, ${e.write ? "read_write" : "read"}> b${k}: array<${e.vec4 ? "vec4<u32>" : "u32"}>;`)
      .join("\n");
  }

  /** The bindings for the encoder. */
  storage(): StorageBinding[] {
    return this.entries.map((e) => ({ buffer: e.buffer, size: e.bytes }));
  }
}

/** WGSL converting a 32-bit word holding a value of `e` to that value's WGSL type. */
export function fromWord(e: Elem, word: string): string {
  if (e === "float32") return `bitcast<f32>(${word})`;
  if (e === "int32") return `bitcast<i32>(${word})`;
  return word;
}

/** Where `span` reads from: a binding's scalar view, and its vec4 view when there is one. */
export interface SpanSource {
  readonly scalar: string;
  readonly vec4: string | null;
  readonly elem: Elem;
}

/**
 * WGSL statements defining \`${out}${t}\` for t < n: elements start + t (`start` an i32 WGSL
 * expression) of `src`, converted to `acc`, and 0 where `valid(t)` is false. Through a vec4 view
 * the run costs ceil((n + 3) / 4) loads, realigned with selects (ceil(n / 4) when `aligned`, i.e.
 * start is a multiple of 4); out-of-range vec4 indices are clamped, their values never used.
 */
export function span(
  out: string,
  src: SpanSource,
  start: string,
  n: number,
  acc: Elem,
  opts: { aligned?: boolean; valid?: (t: number) => string | null } = {},
): string {
  const lines: string[] = [];
  const T = wgslType(acc);
  const value = (word: string, t: number) => {
    const v = convert(fromWord(src.elem, word), src.elem, acc);
    const ok = opts.valid?.(t) ?? null;
    return ok ? `select(${T}(0), ${v}, ${ok})` : v;
  };
  if (!src.vec4) {
    for (let t = 0; t < n; t++) {
      const ok = opts.valid?.(t) ?? null;
      const idx = ok ? `u32(select(0, ${out}_a + ${t}, ${ok}))` : `u32(${out}_a + ${t})`;
      if (t === 0) lines.push(`let ${out}_a = ${start};`);
      lines.push(`let ${out}${t} = ${value(`${src.scalar}[${idx}]`, t)};`);
    }
    return lines.join("\n");
  }
  const aligned = opts.aligned ?? false;
  const nq = aligned ? Math.ceil(n / 4) : Math.ceil((n + 3) / 4);
  lines.push(`let ${out}_a = ${start};`);
  lines.push(`let ${out}_q = ${out}_a >> 2u;`);
  lines.push(`let ${out}_l = i32(arrayLength(&${src.vec4})) - 1;`);
  if (!aligned) lines.push(`let ${out}_s = ${out}_a & 3;`);
  for (let m = 0; m < nq; m++) lines.push(`let ${out}_w${m} = ${src.vec4}[u32(clamp(${out}_q + ${m}, 0, ${out}_l))];`);
  const w = (k: number) => `${out}_w${k >> 2}[${k & 3}]`;
  for (let t = 0; t < n; t++) {
    const word = aligned ? w(t) : `select(select(${w(t)}, ${w(t + 1)}, ${out}_s == 1), select(${w(t + 2)}, ${w(t + 3)}, ${out}_s == 3), ${out}_s >= 2)`;
    lines.push(`let ${out}${t} = ${value(word, t)};`);
  }
  return lines.join("\n");
}

/**
 * Lays `count` workgroups out as a grid within `maxPerDim` per dimension (x first, then y), for
 * kernels that recover a flat id as `wid.y * nwg.x + wid.x`.
 */
export function grid(count: number, maxPerDim: number, what: string): [number, number, number] {
  if (count <= maxPerDim) return [count, 1, 1];
  const y = Math.ceil(count / maxPerDim);
  if (y > maxPerDim) {
    throw new WebGPULimitError("maxComputeWorkgroupsPerDimension", `${what} needs ${count} workgroups, more than ${maxPerDim}^2 even as a 2-D grid`);
  }
  return [maxPerDim, y, 1];
}

/** Entry point signature of 1-D kernels; defines `gid` (flat workgroup id) and `lid`. */
export function entry1d(wg = WG): string {
  return /* wgsl */ `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let gid = wid.y * nwg.x + wid.x;`;
}

/**
 * 1-D kernels whose threads loop over elements `i` with a grid stride, on a capped grid of
 * 64-thread workgroups: `entry(count)` opens the loop (inside it, `continue` skips an element),
 * `exit` closes it and the entry point, `groups(n)` is the dispatch size.
 */
export const gridStride = {
  lanes: 64,
  maxGroups: 512,
  entry(count: string): string {
    return /* wgsl */ `@compute @workgroup_size(${this.lanes})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let count = ${count};
  for (var i = wid.x * ${this.lanes}u + lid; i < count; i += nwg.x * ${this.lanes}u) {`;
  },
  exit: "  }\n}",
  groups(n: number, maxPerDim: number): [number, number, number] {
    return [Math.max(1, Math.min(Math.ceil(n / this.lanes), this.maxGroups, maxPerDim)), 1, 1];
  },
};
