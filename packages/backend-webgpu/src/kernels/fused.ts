/**
 * Fused elementwise kernels (see compile/fusion.ts): one expression tree of unary, binary, where
 * and cast nodes over strided input views, generated as one WGSL kernel on the generic
 * elementwise template. Each node computes exactly what its own kernel would have (same
 * conversions, same WGSL), only without storing and reloading the intermediate values.
 */
import type { WebGPUBuffer } from "../buffer.js";
import type { FusedCall, FusedExpr } from "../compile/fusion.js";
import type { DType } from "../contract.js";
import { BINARY_FLOAT_ONLY, POW_WGSL, binaryBody } from "./binary.js";
import type { KernelContext } from "./context.js";
import { denseOperand, viewOperand } from "./copy.js";
import { elementwise } from "./elementwise.js";
import { UNARY_FLOAT_ONLY, unaryBody } from "./unary.js";
import { type Elem, convert, wgslType } from "./wgsl.js";

/** A readable name of the expression, also the kernel's cache key (it fixes the generated WGSL). */
export function describeExpr(e: FusedExpr): string {
  switch (e.k) {
    case "in":
      return `${e.i}`;
    case "unary":
      return `${e.fn}:${e.dtype}(${describeExpr(e.x)})`;
    case "cast":
      return `${e.dtype}(${describeExpr(e.x)})`;
    case "binary":
      return `${e.fn}:${e.dtype}(${describeExpr(e.a)},${describeExpr(e.b)})`;
    case "where":
      return `where:${e.dtype}(${describeExpr(e.c)},${describeExpr(e.a)},${describeExpr(e.b)})`;
  }
}

/** Records the fused kernel computing `call.out = call.expr`. */
export function fused(ctx: KernelContext, call: FusedCall, out: WebGPUBuffer): void {
  let helpers = "";
  let n = 0;
  let pow = false;
  // WGSL of node `e` (typed as `e.dtype`) from the loaded input values.
  const gen = (e: FusedExpr, values: readonly string[]): string => {
    switch (e.k) {
      case "in":
        return values[e.i]!;
      case "cast":
        return convert(gen(e.x, values), e.x.dtype, e.dtype);
      case "unary": {
        const from: DType = e.x.dtype;
        const t: DType = UNARY_FLOAT_ONLY.has(e.fn) ? "float32" : from;
        const [expr, result] = unaryBody(e.fn, t, "v");
        const name = `fused_u${n++}`;
        helpers += `fn ${name}(v: ${wgslType(t)}) -> ${wgslType(result)} { return ${expr}; }\n`;
        return convert(`${name}(${convert(gen(e.x, values), from, t)})`, result, e.dtype);
      }
      case "binary": {
        const from: DType = e.a.dtype;
        const t: DType = BINARY_FLOAT_ONLY.has(e.fn) ? "float32" : from;
        const [expr, result] = binaryBody(e.fn, t);
        pow ||= e.fn === "pow";
        const name = `fused_b${n++}`;
        const ty = wgslType(t);
        helpers += `fn ${name}(a: ${ty}, b: ${ty}) -> ${wgslType(result)} { return ${expr}; }\n`;
        return convert(`${name}(${convert(gen(e.a, values), from, t)}, ${convert(gen(e.b, values), e.b.dtype, t)})`, result, e.dtype);
      }
      case "where": {
        const o: Elem = e.dtype;
        return `select(${convert(gen(e.b, values), e.b.dtype, o)}, ${convert(gen(e.a, values), e.a.dtype, o)}, ${convert(gen(e.c, values), e.c.dtype, "bool")} != 0u)`;
      }
    }
  };
  // Generate once to collect the helpers (names depend only on the tree's shape).
  const placeholder = call.inputs.map((_, i) => `in${i}`);
  gen(call.expr, placeholder);
  const helperText = (pow ? POW_WGSL : "") + helpers;
  elementwise(ctx, {
    name: `fused.${describeExpr(call.expr)}`,
    shape: call.shape,
    inputs: call.inputs.map((v) => viewOperand(v, v.buffer.dtype, "fused")),
    output: denseOperand(out, call.shape, out.dtype),
    helpers: helperText,
    body: (values) => {
      n = 0;
      helpers = "";
      return gen(call.expr, values);
    },
  });
}
