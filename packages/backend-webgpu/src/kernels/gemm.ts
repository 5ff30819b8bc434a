/**
 * The GEMM template shared by matmul and the three convolutions (implicit GEMM: operands are never
 * materialised, each kernel's loaders compute every element's address).
 *
 * C[z, row, col] = sum_k R[z, row, k] * L[z, k, col]. A workgroup owns `RM` consecutive rows and
 * 64 lanes; each lane owns `CN` consecutive columns and keeps an RM x CN block of accumulators in
 * registers. There is no workgroup memory and no barrier: the row operand's address depends only on
 * the workgroup and the loop counters, so it is the same in every lane (one scalar load, broadcast),
 * and only the column operand is loaded per lane. Each kernel writes its reduction as nested loops
 * (channel, kernel row, kernel column, ...) with the per-column address arithmetic hoisted out of
 * them, so no integer division runs inside a loop.
 *
 * This shape suits software adapters such as Mesa's lavapipe, which run a workgroup as a loop over
 * SIMD vectors of lanes: there, workgroup barriers cost a coroutine switch per vector, workgroup
 * memory is ordinary memory read with gathers, and a vector integer division is eight scalar ones.
 * It is also a reasonable shape for GPUs at the sizes of small networks.
 *
 * When the output is small and the reduction long (weight gradients), the reduction is split across
 * workgroups and the partial sums are added by the reduce kernel.
 */
import type { WebGPUBuffer } from "../buffer.js";
import { type KernelContext, launch } from "./context.js";
import { reduce } from "./reduce.js";
import { type BindingSet, COMMON_WGSL, ParamBuilder, convert, paramsDecl, store, wgslType } from "./wgsl.js";

/** Lanes per workgroup. */
const LANES = 64;

/** Index of the first custom parameter: kernels read theirs as `P(GEMM_PARAMS + i)`. */
export const GEMM_PARAMS = 9;

/** Describes one implicit GEMM. */
export interface GemmSpec {
  /** Cache key of the generated WGSL (everything the fragments depend on). */
  readonly key: string;
  readonly label: string;
  /** Independent problems (batch entries, convolution groups, image rows...), `zi` in the fragments. */
  readonly z: number;
  readonly rows: number;
  /** Lane work items (`lb` in the fragments); each covers `cn` output columns. */
  readonly blocks: number;
  /** Output columns per lane work item. */
  readonly cn: number;
  /** Most rows per workgroup (default 8): accumulators are rows x cn registers per lane. */
  readonly rm?: number;
  /** Multiply-adds per output element (to decide whether the reduction is worth splitting). */
  readonly K: number;
  /**
   * Units the reduction may be split into (k for matmul, images for weight gradients); the loops
   * then cover units [part * chunk, min(units, (part + 1) * chunk)) as `uBegin`, `uEnd`.
   */
  readonly units: number;
  /** Split chunks are multiples of this many units (default 1). */
  readonly unitAlign?: number;
  /** Accumulation type: float32, or int32 for integer (and bool) operands. */
  readonly acc: "float32" | "int32";
  /** Bindings used by the fragments (the template adds the output). */
  readonly bindings: BindingSet;
  /** Custom u32 parameters, readable as `P(GEMM_PARAMS + i)`. */
  readonly custom: readonly number[];
  /** WGSL helper functions. */
  readonly helpers?: string;
  /**
   * The reduction: statements adding into `acc${i}_${j}` (row `r${i}`, column j of work item `lb`)
   * for i < rm, j < cn. Rows `r${i}` are the same in every lane (clamped to the last row).
   */
  readonly body: (rm: number) => string;
  /** Flat output index of (row `r${i}`, column j). */
  readonly outIndex: (i: number, j: number) => string;
  /** Whether column j exists (work items may cover columns past the end of an image row). */
  readonly colValid: (j: number) => string;
  readonly out: WebGPUBuffer;
}

/** Rows per workgroup: up to 8, fewer for matrices with fewer rows. */
export function rowsPerGroup(rows: number, max = 8): number {
  if (rows >= max) return max;
  return rows >= 8 ? 8 : rows >= 4 ? 4 : rows >= 2 ? 2 : 1;
}

/** Columns per lane for `cols` output columns. */
export function colsPerLane(cols: number): number {
  return cols >= 4 * LANES ? 4 : cols >= 2 * LANES ? 2 : cols >= 4 ? 4 : 1;
}

/**
 * `acc${i}_${j} += a_i * b_j` for every row and column, with `a(i)` and `b(j)` loaded once each
 * (a: the uniform row operand, b: the per-lane column operand).
 */
export function outerProduct(rm: number, cn: number, a: (i: number) => string, b: (j: number) => string): string {
  const lines: string[] = [];
  for (let i = 0; i < rm; i++) lines.push(`let av${i} = ${a(i)};`);
  for (let j = 0; j < cn; j++) lines.push(`let bv${j} = ${b(j)};`);
  for (let i = 0; i < rm; i++) for (let j = 0; j < cn; j++) lines.push(`acc${i}_${j} += av${i} * bv${j};`);
  return lines.join("\n");
}

/**
 * How readily a GEMM's reduction is split across workgroups. A GPU needs thousands of lanes in
 * flight to hide memory latency, so a weight gradient (tiny output, long reduction) run as a few
 * workgroups leaves it nearly idle; a software adapter runs workgroups on a few CPU cores, where
 * splitting only adds the partial sums' traffic.
 */
export interface SplitPolicy {
  /** Workgroups that keep the device busy: a GEMM offering fewer than half as many is split. */
  readonly targetGroups: number;
  /** Shortest reduction (multiply-adds per output element) worth splitting. */
  readonly minReduction: number;
  /** Fewest multiply-adds per output element in one chunk of a split reduction. */
  readonly minChunk: number;
  /** Most ways to split one reduction. */
  readonly maxSplits: number;
}

/** For adapters that run on the CPU (lavapipe, SwiftShader): a few dozen workgroups. */
export const SOFTWARE_SPLITS: SplitPolicy = { targetGroups: 64, minReduction: 2048, minChunk: 512, maxSplits: 64 };

/** For GPUs: thousands of workgroups, chunks short enough for a weight gradient at batch 20. */
export const GPU_SPLITS: SplitPolicy = { targetGroups: 2048, minReduction: 256, minChunk: 64, maxSplits: 512 };

/** Most partial-sum words a split GEMM writes (16 MiB), so splitting never costs much memory. */
const MAX_PARTIAL_WORDS = 1 << 22;

/** How many ways to split the reduction: only when the output leaves most of the device idle. */
function chooseSplits(spec: GemmSpec, groups: number, policy: SplitPolicy): number {
  if (spec.out.dtype !== spec.acc || spec.units < 2) return 1;
  if (groups * 2 >= policy.targetGroups || spec.K < policy.minReduction) return 1;
  // Chunks of at least minChunk multiply-adds per output, enough groups to keep the device busy.
  const perUnit = spec.K / spec.units;
  const maxByWork = Math.max(1, Math.floor(spec.K / Math.max(policy.minChunk, perUnit)));
  const maxByMemory = Math.max(1, Math.floor(MAX_PARTIAL_WORDS / spec.out.size));
  return Math.max(1, Math.min(policy.maxSplits, spec.units, maxByWork, maxByMemory, Math.ceil(policy.targetGroups / groups)));
}

function gemmSource(spec: GemmSpec, words: number, RM: number, outName: string, split: boolean): string {
  const T = wgslType(spec.acc);
  const z = spec.acc === "float32" ? "0.0" : "0";
  const CN = spec.cn;
  const lines: string[] = [];
  for (let i = 0; i < RM; i++) lines.push(`  let r${i} = min(row0 + ${i}u, ROWS - 1u);`);
  for (let i = 0; i < RM; i++) for (let j = 0; j < CN; j++) lines.push(`  var acc${i}_${j}: ${T} = ${z};`);
  lines.push(spec.body(RM));
  for (let j = 0; j < CN; j++) {
    const stores: string[] = [];
    for (let i = 0; i < RM; i++) {
      const idx = split ? `(${spec.outIndex(i, j)}) * P(6u) + part` : spec.outIndex(i, j);
      const v = split ? `acc${i}_${j}` : convert(`acc${i}_${j}`, spec.acc, spec.out.dtype);
      stores.push(`    if (row0 + ${i}u < ROWS) { ${store(split ? spec.acc : spec.out.dtype, outName, idx, v)} }`);
    }
    lines.push(`  if (${spec.colValid(j)}) {\n${stores.join("\n")}\n  }`);
  }
  return `${paramsDecl(words)}
${spec.bindings.decls()}
${COMMON_WGSL}
${spec.helpers ?? ""}
@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let ROWS = P(0u);
  let lb = (wid.x + P(3u)) * ${LANES}u + lid;
  // No barriers below, so lanes past the last work item can leave at once.
  if (lb >= P(1u)) { return; }
  let row0 = (wid.y + P(4u)) * ${RM}u;
  let zz = wid.z + P(5u);
  let zi = zz / P(6u);
  let part = zz % P(6u);
  let uBegin = part * P(7u);
  let uEnd = min(P(8u), uBegin + P(7u));
${lines.join("\n")}
}
`;
}

/** Records the GEMM (several dispatches when the grid exceeds maxComputeWorkgroupsPerDimension). */
export function gemm(ctx: KernelContext, spec: GemmSpec): void {
  const { z, rows, blocks } = spec;
  if (z === 0 || rows === 0 || blocks === 0) return;
  const RM = rowsPerGroup(rows, spec.rm);
  const tilesX = Math.ceil(blocks / LANES);
  const tilesY = Math.ceil(rows / RM);
  const splits = chooseSplits(spec, z * tilesX * tilesY, ctx.splits);
  const align = spec.unitAlign ?? 1;
  const chunk = Math.max(1, Math.ceil(spec.units / splits / align) * align);
  const split = splits > 1;
  const size = spec.out.size;
  const target = split ? ctx.temp(size * splits, spec.acc) : spec.out;
  const bindings = spec.bindings;
  const outName = bindings.use(target, true);
  const zs = z * splits;
  const max = ctx.maxWorkgroupsPerDim;
  for (let bz = 0; bz < zs; bz += max) {
    for (let by = 0; by < tilesY; by += max) {
      for (let bx = 0; bx < tilesX; bx += max) {
        const params = new ParamBuilder();
        for (const w of [rows, blocks, spec.K, bx, by, bz, splits, chunk, spec.units]) params.u(w);
        for (const w of spec.custom) params.u(w);
        const words = params.length;
        launch(
          ctx,
          `gemm:${spec.key}:${spec.acc}:${RM}x${spec.cn}:${split ? `split-${spec.acc}` : `out-${spec.out.dtype}`}`,
          spec.label,
          () => gemmSource(spec, words, RM, outName, split),
          params,
          bindings,
          [Math.min(max, tilesX - bx), Math.min(max, tilesY - by), Math.min(max, zs - bz)],
        );
      }
    }
  }
  if (split) {
    reduce(ctx, "sum", target, size, splits, spec.out);
    ctx.releaseTemp(target);
  }
}
