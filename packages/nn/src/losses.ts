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

/** Negative log-likelihood of `target` classes given log-probabilities [N, C]. */
export function nllLoss(logProbs: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  checkTargets("nllLoss", logProbs, target);
  const picked = T.tidy(() => T.neg(T.sum(T.where(T.oneHot(target, logProbs.shape[1]!), logProbs, 0), 1)));
  return reduce("nllLoss", picked, reduction);
}

/** Cross-entropy from raw scores (logits) [N, C]: log-softmax then NLL, numerically stable. */
export function crossEntropyLoss(logits: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  checkTargets("crossEntropyLoss", logits, target);
  const lp = T.logSoftmax(logits, 1);
  const loss = nllLoss(lp, target, reduction);
  lp.dispose();
  return loss;
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
