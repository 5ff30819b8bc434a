import { type Tensor, TesseraError, dispose, keep, shareTensor, zerosLike } from "@tessera/tensor";
import { Tensor as TensorClass } from "@tessera/tensor";
import { runBackward } from "./backward.js";

/** A tensor, or arrays / plain records of them, nested to any depth. */
export type TensorTree = Tensor | readonly TensorTree[] | { readonly [key: string]: TensorTree };

function mapTree(tree: TensorTree, fn: (t: Tensor) => Tensor, path = "x"): TensorTree {
  if (tree instanceof TensorClass) return fn(tree);
  if (Array.isArray(tree)) return tree.map((v, i) => mapTree(v, fn, `${path}[${i}]`));
  if (tree !== null && typeof tree === "object") {
    const out: Record<string, TensorTree> = {};
    for (const [k, v] of Object.entries(tree)) out[k] = mapTree(v as TensorTree, fn, `${path}.${k}`);
    return out;
  }
  throw new TesseraError("grad", `expected tensors (or arrays/records of them) to differentiate, found ${typeof tree} at ${path}`);
}

/** What `valueAndGrad(f)(x, ...)` returns. */
export interface ValueAndGrad<G> {
  /** f's (scalar) result. */
  value: Tensor;
  /** d value / d x, with x's structure. */
  grads: G;
}

/**
 * Transforms `f(x, ...rest)` (returning a one-element tensor) into a function returning its value
 * and its gradient with respect to `x`, which may be a tensor or a record / array of tensors.
 * Other arguments are passed through and not differentiated. `.grad` fields are left untouched.
 * The value and the gradients are new tensors owned by the caller, like any op's result: an
 * enclosing `tidy` frees them unless they are returned from it.
 */
export function valueAndGrad<X extends TensorTree, A extends unknown[]>(f: (x: X, ...rest: A) => Tensor): (x: X, ...rest: A) => ValueAndGrad<X> {
  return (x: X, ...rest: A) => {
    const variables: Tensor[] = [];
    const vars = mapTree(x, (t) => {
      const v = keep(shareTensor(t));
      v.requiresGrad = true;
      variables.push(v);
      return v;
    }) as X;
    try {
      const value = f(vars, ...rest);
      if (!(value instanceof TensorClass)) throw new TesseraError("grad", `f must return a Tensor, got ${typeof value}`);
      const refusal =
        value.size !== 1
          ? `f must return a one-element tensor, got shape [${value.shape.join(",")}]`
          : !value.gradNode
            ? "f's result does not depend on x (or was computed under noGrad)"
            : undefined;
      if (refusal !== undefined) {
        value.dispose(); // the caller never sees it
        throw new TesseraError("grad", refusal);
      }
      const found = runBackward(value, undefined, {}, new Set(variables));
      // The gradients, like the value, belong to the caller's scope: an enclosing tidy frees them.
      const grads = mapTree(vars, (v) => found.get(v) ?? zerosFor(v)) as X;
      return { value, grads };
    } finally {
      dispose(variables);
    }
  };
}

function zerosFor(v: Tensor): Tensor {
  return zerosLike(v);
}

/** Transforms `f(x, ...rest)` into a function returning d f / d x with x's structure. */
export function grad<X extends TensorTree, A extends unknown[]>(f: (x: X, ...rest: A) => Tensor): (x: X, ...rest: A) => X {
  const vg = valueAndGrad(f);
  return (x: X, ...rest: A) => {
    const { value, grads } = vg(x, ...rest);
    value.dispose();
    return grads;
  };
}
