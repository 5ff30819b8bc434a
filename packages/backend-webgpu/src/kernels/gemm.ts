/**
 * A tiled GEMM template shared by matmul and the three convolutions (implicit GEMM: the operands
 * are never materialised, the kernel's `loadA`/`loadB` compute each element's address).
 *
 * C[b, m, n] = sum_k A[b, m, k] * B[b, k, n]. A workgroup of 16x16 threads computes a 64x64 tile of
 * C, each thread a 4x4 block, staging 64x16 slices of A and 16x64 slices of B in workgroup memory.
 * When the output has few tiles but K is long (weight gradients), K is split across workgroups and
 * the partial sums are added by the reduce kernel, so the GPU is not left with a handful of busy
 * workgroups.
 */
import type { WebGPUBuffer } from "../buffer.js";
import type { DType } from "../contract.js";
import { type KernelContext, launch } from "./context.js";
import { reduce } from "./reduce.js";
import { type BindingSet, COMMON_WGSL, ParamBuilder, convert, paramsDecl, store, wgslType } from "./wgsl.js";

const TILE = 64;
const BK = 16;

/** Index of the first custom parameter: loaders read theirs as `P(GEMM_PARAMS + i)`. */
export const GEMM_PARAMS = 9;

/** Describes one implicit GEMM. */
export interface GemmSpec {
  /** Cache key of the loaders (everything the helper WGSL depends on). */
  readonly key: string;
  readonly label: string;
  readonly batch: number;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** Accumulation type: float32, or int32 for integer (and bool) operands. */
  readonly acc: "float32" | "int32";
  /** Bindings already used by the loaders (the template adds the output for flat stores). */
  readonly bindings: BindingSet;
  /** Custom u32 parameters, readable as `P(GEMM_PARAMS + i)`. */
  readonly custom: readonly number[];
  /**
   * WGSL defining `fn loadA(b: u32, m: u32, k: u32) -> T`, `fn loadB(b: u32, k: u32, n: u32) -> T`
   * and, unless `flatOut` is given, `fn storeC(b: u32, m: u32, n: u32, v: T)` (T the acc type).
   */
  readonly helpers: () => string;
  /** When set, C is stored contiguously as [batch, M, N] into this buffer (and K may be split). */
  readonly flatOut?: WebGPUBuffer;
}

function gemmSource(spec: GemmSpec, words: number, splitStore: string | null): string {
  const T = wgslType(spec.acc);
  const z = spec.acc === "float32" ? "0.0" : "0";
  return `${paramsDecl(words)}
${spec.bindings.decls()}
${COMMON_WGSL}
${spec.helpers()}
${splitStore ?? ""}
var<workgroup> As: array<array<${T}, ${TILE}>, ${BK}>;
var<workgroup> Bs: array<array<${T}, ${TILE}>, ${BK}>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = P(0u);
  let N = P(1u);
  let K = P(2u);
  let splits = P(6u);
  let kChunk = P(7u);
  let z = wid.z + P(5u);
  let batch = z / splits;
  let part = z % splits;
  let row0 = (wid.y + P(4u)) * ${TILE}u;
  let col0 = (wid.x + P(3u)) * ${TILE}u;
  let kBegin = part * kChunk;
  let kEnd = min(K, kBegin + kChunk);
  let tx = lid3.x;
  let ty = lid3.y;
  var acc: array<array<${T}, 4>, 4>;
  for (var k0 = kBegin; k0 < kEnd; k0 += ${BK}u) {
    for (var l = 0u; l < 4u; l++) {
      let e = lid + l * 256u;
      let m = e / ${BK}u;
      let k = e % ${BK}u;
      var v: ${T} = ${z};
      if (row0 + m < M && k0 + k < kEnd) { v = loadA(batch, row0 + m, k0 + k); }
      As[k][m] = v;
    }
    for (var l = 0u; l < 4u; l++) {
      let e = lid + l * 256u;
      let k = e / ${TILE}u;
      let n = e % ${TILE}u;
      var v: ${T} = ${z};
      if (k0 + k < kEnd && col0 + n < N) { v = loadB(batch, k0 + k, col0 + n); }
      Bs[k][n] = v;
    }
    workgroupBarrier();
    for (var k = 0u; k < ${BK}u; k++) {
      var a: array<${T}, 4>;
      var b: array<${T}, 4>;
      for (var i = 0u; i < 4u; i++) { a[i] = As[k][ty * 4u + i]; }
      for (var j = 0u; j < 4u; j++) { b[j] = Bs[k][tx * 4u + j]; }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i][j] += a[i] * b[j]; }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let m = row0 + ty * 4u + i;
      let n = col0 + tx * 4u + j;
      if (m < M && n < N) { ${splitStore ? "storeSplit(batch, m, n, part, acc[i][j]);" : "storeC(batch, m, n, acc[i][j]);"} }
    }
  }
}
`;
}

/** How many ways to split K: only when the output has too few tiles to keep the GPU busy. */
function chooseSplits(spec: GemmSpec): number {
  if (!spec.flatOut || spec.flatOut.dtype !== spec.acc) return 1;
  const tiles = spec.batch * Math.ceil(spec.M / TILE) * Math.ceil(spec.N / TILE);
  if (tiles >= 32 || spec.K < 4096) return 1;
  return Math.min(64, Math.ceil(spec.K / 2048), Math.ceil(128 / tiles));
}

/** Records the GEMM (several dispatches when the grid exceeds maxComputeWorkgroupsPerDimension). */
export function gemm(ctx: KernelContext, spec: GemmSpec): void {
  const { batch, M, N, K } = spec;
  if (batch === 0 || M === 0 || N === 0) return;
  const splits = chooseSplits(spec);
  const kChunk = splits === 1 ? Math.max(K, 1) : Math.ceil(Math.ceil(K / splits) / BK) * BK;
  const T = wgslType(spec.acc);
  let target: WebGPUBuffer | null = null;
  let storeWGSL: string | null = null;
  const bindings = spec.bindings;
  if (spec.flatOut) {
    target = splits > 1 ? ctx.temp(batch * M * N * splits, spec.acc) : spec.flatOut;
    const o = bindings.use(target, true);
    const outDtype: DType = target.dtype;
    // Partials land as [batch, M, N, splits] so one last-axis reduction adds them into place.
    storeWGSL = `fn storeSplit(b: u32, m: u32, n: u32, s: u32, v: ${T}) { ${store(outDtype, o, "((b * P(0u) + m) * P(1u) + n) * P(6u) + s", convert("v", spec.acc, outDtype))} }`;
  }
  const tilesX = Math.ceil(N / TILE);
  const tilesY = Math.ceil(M / TILE);
  const zs = batch * splits;
  const max = ctx.maxWorkgroupsPerDim;
  for (let bz = 0; bz < zs; bz += max) {
    for (let by = 0; by < tilesY; by += max) {
      for (let bx = 0; bx < tilesX; bx += max) {
        const params = new ParamBuilder();
        for (const w of [M, N, K, bx, by, bz, splits, kChunk, 0]) params.u(w);
        for (const w of spec.custom) params.u(w);
        const words = params.length;
        launch(
          ctx,
          `gemm:${spec.key}:${spec.acc}:${storeWGSL ? `flat-${target!.dtype}` : "custom"}`,
          spec.label,
          () => gemmSource(spec, words, storeWGSL),
          params,
          bindings,
          [Math.min(max, tilesX - bx), Math.min(max, tilesY - by), Math.min(max, zs - bz)],
        );
      }
    }
  }
  if (splits > 1 && target && spec.flatOut) {
    reduce(ctx, "sum", target, batch * M * N, splits, spec.flatOut);
    ctx.releaseTemp(target);
  }
}
