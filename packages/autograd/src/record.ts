import { type OpRecord, type Tensor, autogradHooks } from "@tessera/tensor";
import { Node } from "./graph.js";
import { isGradEnabled } from "./mode.js";
import { castReason, gradientRules, nonDifferentiable } from "./rules/index.js";

/** Why `op` has no gradient, or undefined when it has a rule. */
function reasonFor(op: string, attrs: Readonly<Record<string, unknown>>): string | undefined {
  const why = op === "cast" ? castReason(attrs) : (nonDifferentiable[op] ?? (gradientRules[op] ? undefined : "it has no gradient rule"));
  return why === undefined ? undefined : `${op} is not differentiable (${why})`;
}

/** The message inherited from an input computed by a non-differentiable op, if any. */
function inheritedReason(inputs: readonly Tensor[]): string | undefined {
  for (const t of inputs) {
    const node = t.gradNode as Node | null;
    if (node?.nonDifferentiable) return node.nonDifferentiable;
  }
  return undefined;
}

function onOp({ op, inputs, output, attrs }: OpRecord): void {
  if (!isGradEnabled()) return;
  const requires = inputs.some((t) => t.requiresGrad);
  const reason = requires ? reasonFor(op, attrs) : inheritedReason(inputs);
  if (reason !== undefined) {
    // Like PyTorch, such results do not require gradients; the marker lets backward() say why.
    output.gradNode = Node.marker(op, reason);
    return;
  }
  if (!requires) return;
  output.gradNode = new Node(op, attrs, inputs, output);
  output.requiresGrad = true;
}

function onDispose(t: Tensor): void {
  const node = t.gradNode as Node | null;
  if (node) {
    t.gradNode = null;
    node.release();
  }
}

/** Installs the recording hooks into @tessera/tensor (idempotent). */
export function installHooks(backward: NonNullable<typeof autogradHooks.backward>): void {
  autogradHooks.onOp = onOp;
  autogradHooks.onDispose = onDispose;
  autogradHooks.backward = backward;
}
