import * as T from "@tessera/tensor";
import { type Tensor, TesseraError, fmtShapeOf, keep } from "./tensor-utils.js";
import type { Node } from "./graph.js";
import { noGrad } from "./mode.js";
import { gradientRules } from "./rules/index.js";

/** Options of `backward`. */
export interface BackwardOptions {
  /** Keep the graph's saved tensors so backward can run through it again. */
  retainGraph?: boolean;
}

/** Nodes reachable from `root`, children before parents (reverse topological order). */
function order(root: Node): Node[] {
  const seen = new Set<Node>();
  const post: Node[] = [];
  const stack: Array<[Node, number]> = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [node, i] = top;
    if (i < node.parents.length) {
      top[1]++;
      const p = node.parents[i];
      if (p && !seen.has(p)) {
        seen.add(p);
        stack.push([p, 0]);
      }
    } else {
      stack.pop();
      post.push(node);
    }
  }
  return post.reverse();
}

function accumulate<K>(map: Map<K, Tensor>, key: K, g: Tensor): void {
  const old = map.get(key);
  if (!old) {
    map.set(key, g);
    return;
  }
  map.set(key, T.add(old, g));
  old.dispose();
  g.dispose();
}

/**
 * Reverse-mode sweep from `root` seeded with `seed` (ones for a scalar). Returns the gradient of
 * every leaf that requires one (or of `targets` only, when given). Frees the graph's saved
 * tensors unless `retainGraph`.
 */
export function runBackward(root: Tensor, seed: Tensor | undefined, options: BackwardOptions = {}, targets?: ReadonlySet<Tensor>): Map<Tensor, Tensor> {
  const op = "backward";
  const rootNode = root.gradNode as Node | null;
  if (!rootNode) {
    throw new TesseraError(
      op,
      root.requiresGrad
        ? "this tensor is a leaf: there is nothing to differentiate through"
        : "this tensor does not require gradients (no input of the ops that made it had requiresGrad set, or it was computed under noGrad)",
    );
  }
  if (rootNode.nonDifferentiable) throw new TesseraError(op, rootNode.nonDifferentiable);
  if (!seed && root.size !== 1) {
    throw new TesseraError(op, `a gradient can be implicit only for a one-element tensor, got shape ${fmtShapeOf(root)}; pass one: t.backward(gradient)`);
  }
  if (seed && (seed.rank !== root.rank || seed.shape.some((d, i) => d !== root.shape[i]))) {
    throw new TesseraError(op, `gradient has shape ${fmtShapeOf(seed)} but the tensor has ${fmtShapeOf(root)}`);
  }
  const nodes = order(rootNode);
  const grads = new Map<Node, Tensor>();
  const leafGrads = new Map<Tensor, Tensor>();
  noGrad(() => {
    grads.set(rootNode, seed ? T.contiguous(seed) : T.onesLike(root));
    try {
      for (const node of nodes) {
        const g = grads.get(node);
        if (!g) continue;
        grads.delete(node);
        if (node.freed) {
          g.dispose();
          throw new TesseraError(
            op,
            `the graph through ${node.op} was already freed by an earlier backward(); pass { retainGraph: true } to the first call to keep it`,
          );
        }
        const rule = gradientRules[node.op]!;
        const needsGrad = node.inputs.map((_, i) => node.parents[i] != null || (node.leaves[i] != null && (!targets || targets.has(node.leaves[i]!))));
        const inputGrads = T.tidy(() => rule({ inputs: node.inputs, output: node.output!, attrs: node.attrs, needsGrad }, g));
        g.dispose();
        inputGrads.forEach((ig, i) => {
          if (!ig) return;
          const parent = node.parents[i];
          const leaf = node.leaves[i];
          if (parent) accumulate(grads, parent, ig);
          else if (leaf && (!targets || targets.has(leaf))) accumulate(leafGrads, leaf, ig);
          else ig.dispose();
        });
      }
    } finally {
      for (const g of grads.values()) g.dispose();
      if (!options.retainGraph) for (const n of nodes) n.free();
    }
  });
  return leafGrads;
}

/** `tensor.backward()`: accumulates into `.grad` of every leaf that requires gradients. */
export function backward(root: Tensor, seed?: Tensor, options: BackwardOptions = {}): void {
  const grads = runBackward(root, seed, options);
  for (const [leaf, g] of grads) {
    if (leaf.isDisposed) {
      g.dispose();
      continue;
    }
    if (leaf.grad) {
      const sum = noGrad(() => T.add(leaf.grad!, g));
      leaf.grad.dispose();
      g.dispose();
      leaf.grad = keep(sum);
    } else {
      leaf.grad = keep(g); // .grad outlives the tidy around backward(), as in the training loop
    }
  }
}
