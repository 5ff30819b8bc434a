import type { Tensor } from "../tensor.js";

/** One recorded call of a differentiable op, as @tessera/autograd sees it. */
export interface OpRecord {
  /** The op's name (for example `conv2d`). */
  readonly op: string;
  /** The tensors the op read. */
  readonly inputs: readonly Tensor[];
  /** The tensor the op returned. */
  readonly output: Tensor;
  /** The op's attributes (axes, strides, ...), what a gradient rule needs besides the tensors. */
  readonly attrs: Readonly<Record<string, unknown>>;
}

/**
 * Hooks an autograd engine installs. The tensor package never imports autograd: it only calls
 * these when present, so gradients stay out of the core and out of every backend.
 */
export interface AutogradHooks {
  /** Called after each top-level op (ops an op runs internally are not reported). */
  onOp?: (record: OpRecord) => void;
  /** Called when a tensor handle is disposed. */
  onDispose?: (tensor: Tensor) => void;
  /** Runs `tensor.backward()`. */
  backward?: (tensor: Tensor, gradient?: Tensor, options?: BackwardOptions) => void;
}

/** Options of `tensor.backward()`. */
export interface BackwardOptions {
  /** Keep the graph's saved tensors so that backward can run through it again. */
  retainGraph?: boolean;
}

/** The installed hooks (mutated by @tessera/autograd on import). */
export const autogradHooks: AutogradHooks = {};

let depth = 0;
let outermost: string | undefined;

/** The op the user called, while it runs (ops it runs internally do not change it). */
export function activeOp(): string | undefined {
  return outermost;
}

/**
 * Runs an op and reports it to the autograd hook. Ops run inside `run` (an op's implementation
 * or a fallback composed of other ops) are not reported: the outer op's gradient rule covers them.
 */
export function recordOp(op: string, inputs: readonly Tensor[], attrs: Readonly<Record<string, unknown>>, run: () => Tensor): Tensor {
  if (depth++ === 0) outermost = op;
  let output: Tensor;
  try {
    output = run();
  } finally {
    if (--depth === 0) outermost = undefined;
  }
  if (depth === 0 && autogradHooks.onOp) autogradHooks.onOp({ op, inputs, output, attrs });
  return output;
}
