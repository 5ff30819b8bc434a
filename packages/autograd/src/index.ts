/**
 * @tessera/autograd: reverse-mode automatic differentiation over @tessera/tensor ops.
 * Importing it installs the recorder: ops on tensors with `requiresGrad` are taped, and
 * `loss.backward()` fills `.grad`. Gradient rules live here, over tensor ops, never in a backend.
 *
 * @module @tessera/autograd
 */
import { type Tensor, shareTensor } from "@tessera/tensor";
import { backward } from "./backward.js";
import { installHooks } from "./record.js";

installHooks((t, g, options) => backward(t, g, options));

export { backward, runBackward, type BackwardOptions } from "./backward.js";
export { grad, valueAndGrad, type TensorTree, type ValueAndGrad } from "./functional.js";
export { noGrad, isGradEnabled } from "./mode.js";
export { gradientRules, nonDifferentiable, type GradientRule, type RuleContext } from "./rules/index.js";

/** Marks `t` as a leaf whose gradient `backward()` accumulates into `t.grad`; returns it. */
export function requireGrad<T extends Tensor>(t: T): T {
  t.requiresGrad = true;
  return t;
}

/** Disposes and clears `.grad` of each tensor (PyTorch's `zero_grad(set_to_none=True)`). */
export function zeroGrad(tensors: Iterable<Tensor>): void {
  for (const t of tensors) {
    t.grad?.dispose();
    t.grad = null;
  }
}

/** A new handle on the same values that is cut from the graph (no gradient flows through it). */
export function detach(t: Tensor): Tensor {
  return shareTensor(t);
}
