import type { Tensor } from "@tessera/tensor";

/** What a gradient rule sees of the recorded op. */
export interface RuleContext {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly attrs: Readonly<Record<string, unknown>>;
}

/**
 * A vector-Jacobian product: given dL/d(output), returns dL/d(input) for each input (null where
 * an input gets no gradient). Rules run without recording and may return views.
 */
export type GradientRule = (ctx: RuleContext, dy: Tensor) => Array<Tensor | null>;
