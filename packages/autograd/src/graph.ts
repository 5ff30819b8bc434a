import { type Tensor, keep, shareTensor } from "@tessera/tensor";

/**
 * One recorded op in the graph. It owns handles to the op's inputs and output (so their buffers
 * outlive the user's handles until backward has used them) and a reference on each parent node.
 */
export class Node {
  /** Handles this node holds on to; disposed when the node is freed. */
  readonly inputs: Tensor[];
  readonly output: Tensor | null;
  /** The node that produced each input, or null for leaves and constants. */
  readonly parents: Array<Node | null>;
  /** For leaf inputs that require gradients: the user's tensor, whose `.grad` receives them. */
  readonly leaves: Array<Tensor | null>;
  private refs = 1;
  freed = false;

  constructor(
    readonly op: string,
    readonly attrs: Readonly<Record<string, unknown>>,
    inputs: readonly Tensor[],
    output: Tensor | null,
    /**
     * Set on marker nodes of results that cannot carry gradients (argmax, comparisons, integer
     * casts, and whatever is computed from them): the message backward() gives. Markers save nothing.
     */
    readonly nonDifferentiable?: string,
  ) {
    this.inputs = inputs.map((t) => keep(shareTensor(t)));
    this.output = output ? keep(shareTensor(output)) : null;
    // Gradients flow only to inputs that require them: to the node that made them, or to a leaf.
    this.parents = inputs.map((t) => {
      const n = t.requiresGrad ? (t.gradNode as Node | null) : null;
      n?.retain();
      return n ?? null;
    });
    this.leaves = inputs.map((t) => (t.requiresGrad && !t.gradNode ? t : null));
  }

  /** A node that only remembers why its tensor has no gradient. */
  static marker(op: string, message: string): Node {
    return new Node(op, {}, [], null, message);
  }

  retain(): void {
    this.refs++;
  }

  /** Drops one reference; frees the node (and releases its parents) at zero. */
  release(): void {
    if (--this.refs === 0) {
      this.free();
      for (const p of this.parents) p?.release();
    }
  }

  /** Returns the saved buffers now (backward has used them); the node stays in the graph as a husk. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    for (const t of this.inputs) t.dispose();
    this.output?.dispose();
  }
}
