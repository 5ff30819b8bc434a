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
  private readonly entries: Array<{ buffer: GPUBuffer; bytes: number; write: boolean }> = [];
  private readonly uses: number[] = [];

  /** Binds `b` (reusing an earlier binding of the same GPU buffer) and returns its WGSL name. */
  use(b: WebGPUBuffer | { gpu: GPUBuffer; bindBytes: number }, write = false): string {
    let k = this.entries.findIndex((e) => e.buffer === b.gpu);
    if (k < 0) {
      k = this.entries.length;
      this.entries.push({ buffer: b.gpu, bytes: b.bindBytes, write });
    } else {
      const e = this.entries[k]!;
      e.write ||= write;
      e.bytes = Math.max(e.bytes, b.bindBytes);
    }
    this.uses.push(k);
    return `b${k}`;
  }

  /** Specialisation key: which operand landed in which binding, and which bindings are written. */
  key(): string {
    return `${this.uses.join(",")}/${this.entries.map((e) => (e.write ? "w" : "r")).join("")}`;
  }

  /** The layout pattern: `w` or `r` per binding. */
  layoutKey(): string {
    return this.entries.map((e) => (e.write ? "w" : "r")).join("");
  }

  /** WGSL declarations of the bindings (binding 0 is the parameter block). */
  decls(): string {
    return this.entries.map((e, k) => `@group(0) @binding(${k + 1}) var<storage, ${e.write ? "read_write" : "read"}> b${k}: array<u32>;`).join("\n");
  }

  /** The bindings for the encoder. */
  storage(): StorageBinding[] {
    return this.entries.map((e) => ({ buffer: e.buffer, size: e.bytes }));
  }
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
