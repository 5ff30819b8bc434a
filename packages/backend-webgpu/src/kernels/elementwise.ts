/**
 * The generic strided elementwise kernel behind copy, unary, binary, where and fill: one thread per
 * element of the (collapsed) iteration space, each operand addressed as contiguous, broadcast
 * scalar, or through per-dimension strides read from the parameter block. Rank is unlimited; the
 * kernel is specialised per rank and per operand access pattern.
 */
import type { WebGPUBuffer } from "../buffer.js";
import { type KernelContext, launch } from "./context.js";
import { collapse, sizeOf } from "./layout.js";
import { BindingSet, COMMON_WGSL, type Elem, ParamBuilder, WG, entry1d, grid, load, paramsDecl, store } from "./wgsl.js";

/** An operand of an elementwise kernel: a strided view plus the element type to use for it. */
export interface EwOperand {
  readonly buffer: WebGPUBuffer;
  readonly strides: readonly number[];
  readonly offset: number;
  readonly elem: Elem;
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

/** Records an elementwise kernel; nothing is dispatched for an empty shape. */
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

  const params = new ParamBuilder();
  params.u(n);
  for (const w of spec.extra ?? []) params.u(w);
  const shapeAt: number[] = [];
  if (anyStrided) for (const d of c.shape) shapeAt.push(params.u(d));
  const bindings = new BindingSet();
  const names: string[] = [];
  // Parameter indices per operand: its offset, then its strides when addressed through them.
  const offsetAt: number[] = [];
  const strideAt: number[][] = [];
  operands.forEach((op, k) => {
    names.push(bindings.use(op.buffer, k === 0));
    offsetAt.push(params.i(op.offset));
    strideAt.push(c.access[k] === "strided" ? c.strides[k]!.map((s) => params.i(s)) : []);
  });

  // Only generated on a pipeline-cache miss: the indices above are fixed by the cache key.
  const body = (): string => {
    const lines: string[] = [];
    if (anyStrided) {
      // Unravel the flat index once; every strided operand then dots the coordinates with its strides.
      lines.push("  var rem = i;");
      for (let d = rank - 1; d > 0; d--) {
        lines.push(`  let c${d} = rem % P(${shapeAt[d]}u); rem = rem / P(${shapeAt[d]}u);`);
      }
      lines.push("  let c0 = rem;");
    }
    operands.forEach((_, k) => {
      const access = c.access[k]!;
      if (access === "scalar") lines.push(`  let i${k} = P(${offsetAt[k]}u);`);
      else if (access === "contig") lines.push(`  let i${k} = P(${offsetAt[k]}u) + i;`);
      else {
        const terms = strideAt[k]!.map((at, d) => `i32(c${d}) * Pi(${at}u)`);
        lines.push(`  let i${k} = u32(Pi(${offsetAt[k]}u) + ${terms.join(" + ")});`);
      }
    });
    const values = spec.inputs.map((op, j) => load(op.elem, names[j + 1]!, `i${j + 1}`));
    lines.push(`  let r = ${spec.body(values)};`);
    lines.push(`  ${store(spec.output.elem, names[0]!, "i0", "r")}`);
    return lines.join("\n");
  };

  const elems = operands.map((o) => o.elem).join(",");
  const key = `ew:${spec.name}:${elems}:${c.access.join(",")}:r${rank}`;
  const wordCount = params.length;
  launch(
    ctx,
    key,
    spec.name,
    () => `${paramsDecl(wordCount)}
${bindings.decls()}
${COMMON_WGSL}
${spec.helpers ?? ""}
${entry1d()}
  let i = gid * ${WG}u + lid;
  if (i >= P(0u)) { return; }
${body()}
}
`,
    params,
    bindings,
    grid(Math.ceil(n / WG), ctx.maxWorkgroupsPerDim, spec.name),
  );
}
