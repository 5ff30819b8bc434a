/** `gather`: index-select along the middle axis, moving raw 32-bit words (any dtype). */
import { type WebGPUBuffer, gpuBuffer } from "../buffer.js";
import type { BackendBuffer } from "../contract.js";
import { type KernelContext, launch } from "./context.js";
import { BindingSet, ParamBuilder, gridStride, paramsDecl } from "./wgsl.js";

/**
 * x [outer,n,inner], indices int32 [m] -> out [outer,m,inner]. The core checks indices it can
 * see on the host; ones computed on the device are not, and an out-of-range one (negative ones
 * read as huge u32 words) selects zeros, as the core's fallback does.
 */
export function gather(
  ctx: KernelContext,
  xB: BackendBuffer,
  outer: number,
  n: number,
  inner: number,
  indicesB: BackendBuffer,
  m: number,
  out: WebGPUBuffer,
): void {
  const total = outer * m * inner;
  if (total === 0) return;
  const x = gpuBuffer(xB, "gather");
  const indices = gpuBuffer(indicesB, "gather");
  const params = new ParamBuilder();
  for (const w of [total, n, inner, m]) params.u(w);
  const b = new BindingSet();
  const nx = b.use(x);
  const ni = b.use(indices);
  const no = b.use(out, true);
  const words = params.length;
  launch(
    ctx,
    "gather",
    "gather",
    () => `${paramsDecl(words)}
${b.decls()}
${gridStride.entry("P(0u)")}
  let e = i;
  let inner = P(2u);
  let m = P(3u);
  let t = e / inner;
  let j = t % m;
  let o = t / m;
  let k = ${ni}[j];
  if (k >= P(1u)) {
    ${no}[e] = 0u;
  } else {
    ${no}[e] = ${nx}[(o * P(1u) + k) * inner + e % inner];
  }
${gridStride.exit}
`,
    params,
    b,
    gridStride.groups(total, ctx.maxWorkgroupsPerDim),
  );
}
