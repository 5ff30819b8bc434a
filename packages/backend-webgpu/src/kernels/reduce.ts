/**
 * `reduce`: the last axis of contiguous x viewed as [outer, inner]. Each row gets a power-of-two
 * team of threads sized to its length: one thread for short rows (a plain loop), up to a whole
 * workgroup for long ones (threads stride over the row, then a tree in workgroup memory). Very long
 * rows, when there are few of them (a full sum), are split into chunks reduced by separate
 * workgroups and the partial results reduced in a second pass, so the GPU is not left with one
 * busy workgroup.
 * Argmax/argmin carry (value, index) pairs; the lower index wins ties and the first NaN wins
 * (NumPy), which the tree preserves by comparing indices, not positions.
 */
import type { WebGPUBuffer } from "../buffer.js";
import type { DType, ReduceOp } from "../contract.js";
import { type KernelContext, launch } from "./context.js";
import { BindingSet, COMMON_WGSL, ParamBuilder, WG, entry1d, grid, load, paramsDecl, store, wgslType } from "./wgsl.js";

/** Target chunk length for the split (two-pass) strategy. */
const CHUNK = 4096;

function identity(op: ReduceOp, dtype: DType): string {
  const f = dtype === "float32";
  switch (op) {
    case "sum":
      return f ? "0.0" : "0";
    case "prod":
      return f ? "1.0" : "1";
    case "max":
    case "argmax":
      return f ? "-inf_f()" : "i32(-2147483647 - 1)";
    case "min":
    case "argmin":
      return f ? "inf_f()" : "2147483647";
  }
}

/** WGSL helpers: `combine` for value reductions, `better` for arg reductions. */
function combineWGSL(op: ReduceOp, dtype: DType): string {
  const ty = wgslType(dtype);
  const f = dtype === "float32";
  switch (op) {
    case "sum":
      return `fn combine(a: ${ty}, b: ${ty}) -> ${ty} { return a + b; }`;
    case "prod":
      return `fn combine(a: ${ty}, b: ${ty}) -> ${ty} { return a * b; }`;
    case "max":
      return f
        ? `fn combine(a: ${ty}, b: ${ty}) -> ${ty} { return select(max(a, b), a + b, isnan_f(a) || isnan_f(b)); }`
        : `fn combine(a: ${ty}, b: ${ty}) -> ${ty} { return max(a, b); }`;
    case "min":
      return f
        ? `fn combine(a: ${ty}, b: ${ty}) -> ${ty} { return select(min(a, b), a + b, isnan_f(a) || isnan_f(b)); }`
        : `fn combine(a: ${ty}, b: ${ty}) -> ${ty} { return min(a, b); }`;
    case "argmax":
    case "argmin": {
      const gt = op === "argmax" ? ">" : "<";
      // True when candidate (v, i) should replace the current best (bv, bi).
      const body = f
        ? `if (isnan_f(bv)) { return isnan_f(v) && i < bi; }
  if (isnan_f(v)) { return true; }
  return v ${gt} bv || (v == bv && i < bi);`
        : `return v ${gt} bv || (v == bv && i < bi);`;
      return `fn better(v: ${ty}, i: u32, bv: ${ty}, bi: u32) -> bool {
  ${body}
}`;
    }
  }
}

interface Pass {
  x: WebGPUBuffer;
  out: WebGPUBuffer;
  rows: number;
  inner: number;
  chunkLen: number;
  chunks: number;
}

function isArg(op: ReduceOp): boolean {
  return op === "argmax" || op === "argmin";
}

/**
 * Threads cooperating on one row: about 8 elements per thread, a power of two from 1 (a plain
 * loop per thread, for short rows) to the whole workgroup (long rows).
 */
function threadsPerRow(len: number): number {
  const want = Math.ceil(len / 8);
  let t = 1;
  while (t < want && t < WG) t *= 2;
  return t;
}

/**
 * Element range [c*chunkLen, min((c+1)*chunkLen, inner)) of row r goes to out[r*chunks + c]
 * (chunks = 1: a plain row reduction). A workgroup handles WG/T such slots with T threads each:
 * the threads stride over the range, then combine in a tree in workgroup memory.
 */
function reducePass(ctx: KernelContext, op: ReduceOp, p: Pass): void {
  const dtype = p.x.dtype;
  const slots = p.rows * p.chunks;
  const T = threadsPerRow(Math.min(p.chunkLen, p.inner));
  const perGroup = WG / T;
  const params = new ParamBuilder();
  for (const w of [slots, p.inner, p.chunkLen, p.chunks]) params.u(w);
  const b = new BindingSet();
  const x = b.use(p.x);
  const o = b.use(p.out, true);
  const ty = wgslType(dtype);
  const arg = isArg(op);
  const words = params.length;
  const v = load(dtype, x, "base + j");
  const source = () => `${paramsDecl(words)}
${b.decls()}
${COMMON_WGSL}
${combineWGSL(op, dtype)}
var<workgroup> sv: array<${ty}, ${WG}>;
${arg ? `var<workgroup> si: array<u32, ${WG}>;` : ""}
${entry1d()}
  let lane = lid % ${T}u;
  let slot = gid * ${perGroup}u + lid / ${T}u;
  // No early return: every thread must reach the barriers below.
  let inRange = slot < P(0u);
  var acc: ${ty} = ${identity(op, dtype)};
  var best = 0xffffffffu;
  if (inRange) {
    let inner = P(1u);
    let chunkLen = P(2u);
    let chunks = P(3u);
    let start = (slot % chunks) * chunkLen;
    let end = min(start + chunkLen, inner);
    let base = (slot / chunks) * inner;
    for (var j = start + lane; j < end; j += ${T}u) {
      let v = ${v};
      ${arg ? "if (best == 0xffffffffu || better(v, j, acc, best)) { acc = v; best = j; }" : "acc = combine(acc, v);"}
    }
  }
  sv[lid] = acc;
  ${arg ? "si[lid] = best;" : ""}
  workgroupBarrier();
  for (var s = ${T >> 1}u; s > 0u; s = s >> 1u) {
    if (lane < s) {
      ${
        arg
          ? `let oi = si[lid + s];
      if (oi != 0xffffffffu && (si[lid] == 0xffffffffu || better(sv[lid + s], oi, sv[lid], si[lid]))) {
        sv[lid] = sv[lid + s];
        si[lid] = oi;
      }`
          : "sv[lid] = combine(sv[lid], sv[lid + s]);"
      }
    }
    workgroupBarrier();
  }
  if (inRange && lane == 0u) {
    ${arg ? store("int32", o, "slot", "i32(si[lid])") : store(dtype, o, "slot", "sv[lid]")}
  }
}
`;
  launch(ctx, `reduce:${op}:${dtype}:t${T}`, `reduce.${op}`, source, params, b, grid(Math.ceil(slots / perGroup), ctx.maxWorkgroupsPerDim, "reduce"));
}

/** Reduces the last axis of contiguous x viewed as [outer, inner] into out [outer]. */
export function reduce(ctx: KernelContext, op: ReduceOp, x: WebGPUBuffer, outer: number, inner: number, out: WebGPUBuffer): void {
  if (outer === 0) return;
  if (!isArg(op) && inner >= 4 * CHUNK && outer < 64) {
    // Few very long rows: chunks reduced in parallel, then the partial results.
    const chunks = Math.ceil(inner / CHUNK);
    const partial = ctx.temp(outer * chunks, x.dtype);
    reducePass(ctx, op, { x, out: partial, rows: outer, inner, chunkLen: CHUNK, chunks });
    reduce(ctx, op, partial, outer, chunks, out);
    ctx.releaseTemp(partial);
    return;
  }
  reducePass(ctx, op, { x, out, rows: outer, inner, chunkLen: Math.max(inner, 1), chunks: 1 });
}
