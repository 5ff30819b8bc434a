/** Errors and class probabilities of a model, computed in the worker. */
import { noGrad } from "@tessera/autograd";
import { batches, type ImageSplit } from "@tessera/datasets";
import type { LeNet5 } from "@tessera/nn";
import * as T from "@tessera/tensor";
import { yieldToEvents } from "./yield.js";

/** Wrong predictions of `model` on `split`, in batches of `batchSize`, letting messages in between batches. */
export async function countErrors(model: LeNet5, split: ImageSplit, batchSize: number): Promise<{ wrong: number; count: number }> {
  let wrong = 0;
  for (const { x, y } of batches(split, { batchSize })) {
    const miss = noGrad(() => T.tidy(() => T.sum(T.notEqual(T.argmax(model.forward(x), 1), y))));
    wrong += (await miss.data())[0]!;
    T.dispose([miss, x, y]);
    await yieldToEvents();
  }
  return { wrong, count: split.count };
}

/** The ten class probabilities (softmax of the logits) of one 28x28 image. */
export async function classProbabilities(model: LeNet5, digit: Float32Array): Promise<number[]> {
  const x = T.tensor(digit, { shape: [1, 1, 28, 28] });
  const p = noGrad(() => T.tidy(() => T.softmax(model.forward(x), 1)));
  const values = Array.from(await p.data());
  T.dispose([x, p]);
  return values;
}
