/**
 * The generic strided elementwise kernel behind copy, unary, binary, where and fill: one thread per
 * element of the (collapsed) iteration space, each operand addressed as contiguous, broadcast
 * scalar, or through per-dimension strides read from the parameter block. Rank is unlimited; the
 * kernel is specialised per rank and per operand access pattern.
 *
 * Threads loop over the elements with a grid stride, and the grid is capped: on software adapters
 * (lavapipe) every workgroup has a fixed start-up cost that dominates one element per thread, and
 * on GPUs a few hundred workgroups of 64 threads still cover the device.
 */
import type { WebGPUBuffer } from "../buffer.js";
import { type KernelContext, launch } from "./context.js";
import { collapse, sizeOf } from "./layout.js";
import { BindingSet, COMMON_WGSL, type Elem, ParamBuilder, fromWord, gridStride, load, paramsDecl, store } from "./wgsl.js";

/** An operand of an elementwise kernel: a strided view plus the element type to use for it. */
export interface EwOperand {
  readonly buffer: WebGPUBuffer;
  readonly strides: readonly number[];
  readonly offset: number;
  readonly elem: Elem;
  /** A broadcast scalar's 32-bit word, passed as a kernel parameter: the buffer is not bound. */
  readonly param?: number;
}

/** Describes one elementwise kernel. */
export interface EwSpec {
  /** Kernel family and op, for the cache key and labels (dtypes are added automatically). */
  readonly name: string;
  /** The iteration shape (every operand's view has it). */
  readonly shape: readonly number[];
  readonly inputs: readonly EwOperand[];
  readonly output: EwOperand;
  /** WGSL expression of the result (in the output's WGSL type) from the loaded input values. */
  readonly body: (values: readonly string[]) => string;
  /** Extra WGSL functions the body calls. */
  readonly helpers?: string;
  /** Extra u32 parameters the body reads as `P(1u)`, `P(2u)`, ... */
  readonly extra?: readonly number[];
}

/** Elements of one innermost-axis run handled after a single unravel (strided kernels of rank >= 2). */
const RUN = 8;

/**
 * Records an elementwise kernel; nothing is dispatched for an empty shape.
 *
 * When an operand is strided and the collapsed rank is 2 or more, each thread iteration handles a
 * run of up to RUN elements along the innermost axis: the outer coordinates are unravelled once per
 * run (integer divisions are slow on software adapters, where a vector division is eight scalar
 * ones) and the innermost one steps through the run.
 */
export function elementwise(ctx: KernelContext, spec: EwSpec): void {
  const n = sizeOf(spec.shape);
  if (n === 0) return;
  const operands = [spec.output, ...spec.inputs];
  const c = collapse(
    spec.shape,
    operands.map((o) => o.strides),
  );
  const rank = c.shape.length;
  const anyStrided = c.access.includes("strided");
  const runs = anyStrided && rank >= 2;
  const inner = c.shape[rank - 1] ?? 1;
  const runsPerRow = Math.ceil(inner / RUN);
  const items = runs ? (n / inner) * runsPerRow : n;

  const params = new ParamBuilder();
  params.u(items);
  for (const w of spec.extra ?? []) params.u(w);
  const shapeAt: number[] = [];
  if (anyStrided) for (const d of c.shape) shapeAt.push(params.u(d));
  const runsAt = runs ? params.u(runsPerRow) : -1;
  const bindings = new BindingSet();
  const names: string[] = [];
  // Parameter indices per operand: its offset, then its strides when addressed through them.
  const offsetAt: number[] = [];
  const strideAt: number[][] = [];
  // A parameter operand is a "scalar" whose word sits in the parameter block, not in a binding.
  const access: string[] = c.access.map((a, k) => (operands[k]!.param !== undefined ? "param" : a));
  operands.forEach((op, k) => {
    if (op.param !== undefined) {
      names.push("");
      offsetAt.push(params.u(op.param));
      strideAt.push([]);
      return;
    }
    names.push(bindings.use(op.buffer, k === 0));
    offsetAt.push(params.i(op.offset));
    strideAt.push(c.access[k] === "strided" ? c.strides[k]!.map((s) => params.i(s)) : []);
  });

  const element = (lines: string[], indent: string) => {
    const values = spec.inputs.map((op, j) =>
      op.param !== undefined ? fromWord(op.elem, `P(${offsetAt[j + 1]}u)`) : load(op.elem, names[j + 1]!, `i${j + 1}`),
    );
    lines.push(`${indent}let r = ${spec.body(values)};`);
    lines.push(`${indent}${store(spec.output.elem, names[0]!, "i0", "r")}`);
  };

  // Only generated on a pipeline-cache miss: the indices above are fixed by the cache key.
  const body = (): string => {
    const lines: string[] = [];
    if (runs) {
      const last = rank - 1;
      lines.push(`  let row = i / P(${runsAt}u);`);
      lines.push(`  let k0 = (i % P(${runsAt}u)) * ${RUN}u;`);
      lines.push(`  let kEnd = min(k0 + ${RUN}u, P(${shapeAt[last]}u));`);
      lines.push("  var rem = row;");
      for (let d = last - 1; d > 0; d--) {
        lines.push(`  let c${d} = rem % P(${shapeAt[d]}u); rem = rem / P(${shapeAt[d]}u);`);
      }
      lines.push("  let c0 = rem;");
      operands.forEach((_, k) => {
        const a = access[k]!;
        if (a === "param") return;
        if (a === "scalar") lines.push(`  let s${k} = P(${offsetAt[k]}u);`);
        else if (a === "contig") lines.push(`  let s${k} = P(${offsetAt[k]}u) + row * P(${shapeAt[last]}u);`);
        else {
          const terms = strideAt[k]!.slice(0, last).map((at, d) => `i32(c${d}) * Pi(${at}u)`);
          lines.push(`  let s${k} = Pi(${offsetAt[k]}u) + ${terms.join(" + ")};`);
        }
      });
      lines.push("  for (var k = k0; k < kEnd; k++) {");
      operands.forEach((_, k) => {
        const a = access[k]!;
        if (a === "param") return;
        if (a === "scalar") lines.push(`    let i${k} = s${k};`);
        else if (a === "contig") lines.push(`    let i${k} = s${k} + k;`);
        else lines.push(`    let i${k} = u32(s${k} + i32(k) * Pi(${strideAt[k]![last]}u));`);
      });
      element(lines, "    ");
      lines.push("  }");
      return lines.join("\n");
    }
    if (anyStrided) lines.push("  let c0 = i;");
    operands.forEach((_, k) => {
      const a = access[k]!;
      if (a === "param") return;
      if (a === "scalar") lines.push(`  let i${k} = P(${offsetAt[k]}u);`);
      else if (a === "contig") lines.push(`  let i${k} = P(${offsetAt[k]}u) + i;`);
      else {
        const terms = strideAt[k]!.map((at, d) => `i32(c${d}) * Pi(${at}u)`);
        lines.push(`  let i${k} = u32(Pi(${offsetAt[k]}u) + ${terms.join(" + ")});`);
      }
    });
    element(lines, "  ");
    return lines.join("\n");
  };

  const elems = operands.map((o) => o.elem).join(",");
  const key = `ew:${spec.name}:${elems}:${access.join(",")}:r${rank}`;
  const wordCount = params.length;
  launch(
    ctx,
    key,
    spec.name,
    () => `${paramsDecl(wordCount)}
${bindings.decls()}
${COMMON_WGSL}
${spec.helpers ?? ""}
${gridStride.entry("P(0u)")}
${body()}
${gridStride.exit}
`,
    params,
    bindings,
    gridStride.groups(items, ctx.maxWorkgroupsPerDim),
  );
}
