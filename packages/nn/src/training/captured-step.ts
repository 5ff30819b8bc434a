import * as T from "@tessera/tensor";
import type { Tensor } from "@tessera/tensor";
import { crossEntropyLoss } from "../losses.js";
import type { Module } from "../module.js";
import type { Optimizer } from "../optim/optimizer.js";

/** A training step made by {@link captureTrainingStep}: `step(x, y)` returns the minibatch's loss. */
export type CapturedTrainingStep = T.Captured<[Tensor, Tensor], Tensor>;

/**
 * One training step of `model` on a minibatch `(x, y)`: forward, `loss`, backward, the
 * optimizer's step, gradients cleared; returns the loss (a new tensor the caller disposes).
 * It is captured (`T.capture`): recorded on its first calls, then replayed without running its
 * JavaScript, which on a GPU is most of a step's cost. It is recorded again when the learning
 * rate changes, and a replay still counts the optimizer's step. An optimizer whose update
 * changes every step (Adam's bias correction) runs eagerly; `step.stats().reason` says so.
 * Free it with `step.dispose()`.
 */
export function captureTrainingStep(
  model: Module,
  optimizer: Optimizer,
  loss: (output: Tensor, target: Tensor) => Tensor = crossEntropyLoss,
): CapturedTrainingStep {
  return T.capture(
    (x: Tensor, y: Tensor) => {
      const value = loss(model.forward(x), y);
      value.backward();
      optimizer.step();
      optimizer.zeroGrad(); // a replayed step must leave no gradients behind
      return value;
    },
    // the learning rate is baked into the recording as a host value; a replay skips step()'s count
    { key: () => optimizer.lr, onReplay: () => optimizer.stepCount++ },
  );
}
