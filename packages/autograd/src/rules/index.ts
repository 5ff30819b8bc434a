import { elementwiseRules } from "./elementwise.js";
import { linalgRules } from "./linalg.js";
import { reduceRules } from "./reduce.js";
import type { GradientRule } from "./types.js";
import { viewRules } from "./views.js";

export type { GradientRule, RuleContext } from "./types.js";

/** Every gradient rule, by op name. Defined once here, over tensor ops: never in a backend. */
export const gradientRules: Record<string, GradientRule> = {
  ...elementwiseRules,
  ...reduceRules,
  ...viewRules,
  ...linalgRules,
};

/** Ops that have no gradient, with the reason an error gives when one is asked through them. */
export const nonDifferentiable: Record<string, string> = {
  argmax: "its output is an integer index",
  argmin: "its output is an integer index",
  equal: "comparisons return bool",
  notEqual: "comparisons return bool",
  less: "comparisons return bool",
  lessEqual: "comparisons return bool",
  greater: "comparisons return bool",
  greaterEqual: "comparisons return bool",
  logicalAnd: "logical ops return bool",
  logicalOr: "logical ops return bool",
  logicalNot: "logical ops return bool",
  conv2dBackwardInput: "second derivatives of conv2d are not implemented",
  conv2dBackwardWeight: "second derivatives of conv2d are not implemented",
  maxPool2dBackward: "second derivatives of pooling are not implemented",
  avgPool2dBackward: "second derivatives of pooling are not implemented",
};

/** Reason a cast has no gradient (to an integer or bool type), or undefined when it has one. */
export function castReason(attrs: Readonly<Record<string, unknown>>): string | undefined {
  return attrs.dtype === "float32" ? undefined : `casting to ${String(attrs.dtype)} gives integer or bool values`;
}
