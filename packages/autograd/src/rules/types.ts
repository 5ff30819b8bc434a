import type { Tensor } from "@tessera/tensor";

/** What a gradient rule sees of the recorded op. */
export interface RuleContext {
  /** The op's inputs, as recorded (the node holds its own handles on them). */
  readonly inputs: readonly Tensor[];
  /** The op's output. */
  readonly output: Tensor;
  /** The op's attributes (axes, strides, ...) as the op recorded them. */
  readonly attrs: Readonly<Record<string, unknown>>;
  /**
   * Which inputs need a gradient (they require one and lead to a leaf being asked for). A rule
   * may return null for the others, and heavy rules do, so that no work is spent on, say,
   * the gradient of a network's input images.
   */
  readonly needsGrad: readonly boolean[];
}

/**
 * A vector-Jacobian product: given dL/d(output), returns dL/d(input) for each input (null where
 * an input gets no gradient). Rules run without recording and may return views.
 */
export type GradientRule = (ctx: RuleContext, dy: Tensor) => Array<Tensor | null>;
