import { noGrad } from "@tessera/autograd";
import { type ImageSplit, batches } from "@tessera/datasets";
import type { LeNet5 } from "@tessera/nn";
import * as T from "@tessera/tensor";

/** Errors of a model on a split. */
export interface ErrorCount {
  errors: number;
  count: number;
  /** errors / count (the tutorial's zero-one loss, as a fraction). */
  rate: number;
}

/** The predicted class of every image of `split`, in order. */
export async function predictClasses(model: LeNet5, split: ImageSplit, batchSize: number): Promise<Int32Array> {
  const out = new Int32Array(split.count);
  let at = 0;
  for (const { x, y } of batches(split, { batchSize })) {
    try {
      const pred = noGrad(() => T.tidy(() => T.argmax(model.forward(x), 1)));
      try {
        const values = await pred.data();
        out.set(values, at);
        at += values.length;
      } finally {
        pred.dispose();
      }
    } finally {
      x.dispose();
      y.dispose();
    }
    // Lets a Ctrl-C handler run between batches: 20,000 images take seconds.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return out;
}

/**
 * The fraction of `split` the model gets wrong. Counts over every image; the tutorial averages
 * per-batch error rates of full batches, which is the same number when the batch size divides
 * the split (10,000 images in batches of 500 or 20).
 */
export async function errorRate(model: LeNet5, split: ImageSplit, batchSize: number): Promise<ErrorCount> {
  const pred = await predictClasses(model, split, batchSize);
  let errors = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] !== split.labels[i]) errors++;
  return { errors, count: split.count, rate: split.count === 0 ? 0 : errors / split.count };
}

/** matrix[truth][predicted] counts, for `classes` classes. */
export function confusionMatrix(truth: ArrayLike<number>, predicted: ArrayLike<number>, classes = 10): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) m[truth[i]!]![predicted[i]!]!++;
  return m;
}

/** Class probabilities (softmax of the logits) of a batch of images [N, 1, 28, 28]. */
export async function classProbabilities(model: LeNet5, images: Float32Array, count: number): Promise<Float32Array[]> {
  const x = T.tensor(images, { shape: [count, 1, 28, 28], dtype: "float32" });
  try {
    const p = noGrad(() => T.tidy(() => T.softmax(model.forward(x), 1)));
    try {
      const values = (await p.data()) as Float32Array;
      const classes = p.shape[1]!;
      return Array.from({ length: count }, (_, i) => values.slice(i * classes, (i + 1) * classes));
    } finally {
      p.dispose();
    }
  } finally {
    x.dispose();
  }
}
