import * as T from "@tessera/tensor";
import { type Tensor, TesseraError } from "@tessera/tensor";
import { Module } from "./module.js";

/** How a loss combines per-example values. */
export type Reduction = "mean" | "sum" | "none";

function reduce(op: string, perExample: Tensor, reduction: Reduction): Tensor {
  if (reduction === "none") return perExample;
  if (reduction !== "mean" && reduction !== "sum") throw new TesseraError(op, `reduction must be mean, sum or none, got ${JSON.stringify(reduction)}`);
  const r = reduction === "mean" ? T.mean(perExample) : T.sum(perExample);
  perExample.dispose();
  return r;
}

function checkTargets(op: string, input: Tensor, target: Tensor): void {
  if (input.rank !== 2) throw new TesseraError(op, `input must be [N, C] scores, got [${input.shape.join(",")}]`);
  if (target.rank !== 1 || target.shape[0] !== input.shape[0] || target.dtype !== "int32") {
    throw new TesseraError(op, `target must be int32 class indices of shape [${input.shape[0]}], got [${target.shape.join(",")}] ${target.dtype}`);
  }
}

/**
 * -logProbs[n, target[n]] for each row n. A class index outside [0, C) is never ignored: where
 * the host can see the targets (see `hostData`: always on the CPU, and for targets made from
 * host data elsewhere) it throws, as PyTorch does; targets computed on a device that cannot read
 * synchronously, and every target inside a captured step (`T.capture`: a replay runs no host
 * check), are checked on the device instead, by turning that row's loss and gradient into NaN
 * (PyTorch's GPU kernels assert on the device).
 */
function pickTargets(op: string, logProbs: Tensor, target: Tensor): Tensor {
  const classes = logProbs.shape[1]!;
  const labels = T.hostData(target);
  if (labels) {
    for (let i = 0; i < labels.length; i++) {
      const v = labels[i]!;
      if (!(v >= 0 && v < classes)) {
        throw new TesseraError(op, `target ${v} at position ${i} is out of bounds for ${classes} classes (expected class indices in [0, ${classes - 1}])`);
      }
    }
    return T.tidy(() => T.neg(T.sum(T.where(T.oneHot(target, classes), logProbs, 0), 1)));
  }
  return T.tidy(() => {
    const valid = T.logicalAnd(T.greaterEqual(target, 0), T.less(target, classes)); // [N]
    const rowScale = T.unsqueeze(T.where(valid, 1, Number.NaN), 1); // 1, or NaN for a bad row
    // A bad row's one-hot row is all zeros: selecting the whole (NaN) row makes its loss NaN,
    // and the scale makes its gradient NaN too.
    const select = T.logicalOr(T.oneHot(target, classes), T.logicalNot(T.unsqueeze(valid, 1)));
    return T.neg(T.sum(T.where(select, T.mul(logProbs, rowScale), 0), 1));
  });
}

/**
 * Negative log-likelihood of `target` classes given log-probabilities [N, C]. A target outside
 * [0, C) throws a `TesseraError` (see `crossEntropyLoss`).
 */
export function nllLoss(logProbs: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  checkTargets("nllLoss", logProbs, target);
  return reduce("nllLoss", pickTargets("nllLoss", logProbs, target), reduction);
}

/**
 * Cross-entropy from raw scores (logits) [N, C]: log-softmax then NLL, numerically stable.
 * Targets are class indices in [0, C): one outside throws a `TesseraError` where the host can
 * see the targets (always on the CPU; elsewhere when they were made from host data, as
 * `batches()` makes them); targets computed on a GPU, or given to a captured step, make that
 * row's loss and gradient NaN.
 */
export function crossEntropyLoss(logits: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  checkTargets("crossEntropyLoss", logits, target);
  const lp = T.logSoftmax(logits, 1);
  try {
    return reduce("crossEntropyLoss", pickTargets("crossEntropyLoss", lp, target), reduction);
  } finally {
    lp.dispose();
  }
}

/** Mean squared error (elementwise, then reduced). */
export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  if (input.shape.length !== target.shape.length || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new TesseraError("mseLoss", `input [${input.shape.join(",")}] and target [${target.shape.join(",")}] must have the same shape`);
  }
  const sq = T.tidy(() => T.square(T.sub(input, target)));
  return reduce("mseLoss", sq, reduction);
}

/** Base of the loss modules: a reduction and a two-argument forward. */
abstract class Loss extends Module {
  constructor(readonly reduction: Reduction = "mean") {
    super();
  }
  /** The loss of `input` against `target`, reduced as `reduction` says. */
  abstract call(input: Tensor, target: Tensor): Tensor;
  /** Throws: a loss takes two arguments, so it is computed with {@link call}. */
  forward(): Tensor {
    throw new TesseraError(this.constructor.name, "a loss takes (input, target): use loss.call(input, target)");
  }
}

/** `crossEntropyLoss` as a module. */
export class CrossEntropyLoss extends Loss {
  /** Cross-entropy of `logits` [N, C] against int32 class indices `target` [N]; see {@link crossEntropyLoss}. */
  call(logits: Tensor, target: Tensor): Tensor {
    return crossEntropyLoss(logits, target, this.reduction);
  }
}

/** `nllLoss` as a module. */
export class NLLLoss extends Loss {
  /** Negative log-likelihood of log-probabilities `logProbs` [N, C] at int32 class indices `target` [N]; see {@link nllLoss}. */
  call(logProbs: Tensor, target: Tensor): Tensor {
    return nllLoss(logProbs, target, this.reduction);
  }
}

/** `mseLoss` as a module. */
export class MSELoss extends Loss {
  /** Mean squared error between `input` and `target` of the same shape; see {@link mseLoss}. */
  call(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, this.reduction);
  }
}
