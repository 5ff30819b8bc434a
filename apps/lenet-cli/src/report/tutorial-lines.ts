import { percent } from "./metrics.js";

/** The lines `convolutional_mlp.py` prints, with its wording and number formats. */

export function validationLine(epoch: number, minibatchIndex: number, nTrainBatches: number, error: number): string {
  return `epoch ${epoch}, minibatch ${minibatchIndex + 1}/${nTrainBatches}, validation error ${percent(error)} %`;
}

export function testLine(epoch: number, minibatchIndex: number, nTrainBatches: number, error: number): string {
  return `     epoch ${epoch}, minibatch ${minibatchIndex + 1}/${nTrainBatches}, test error of best model ${percent(error)} %`;
}

/**
 * The closing report. "obtained at iteration N" prints the 0-based iteration `best_iter` itself.
 * The tutorial's current code prints `best_iter + 1`, but the published outputs (16099, 20099,
 * 18499) cannot come from that: with batch 500 (n_train_batches = 100, validation_frequency = 100)
 * validations happen at iter = 99, 199, ..., so best_iter + 1 would be a multiple of 100, and no
 * validation frequency at all divides 16100, 20100 and 18500 minus one (gcd(16099, 20099, 18499) = 1).
 * The published numbers are best_iter: 16099 = the validation after epoch 161. We print that.
 */
export function reportLines(bestValidationError: number | null, bestIter: number, testError: number | null, wallSeconds: number): string[] {
  const best = bestValidationError === null ? "n/a" : `${percent(bestValidationError)} %`;
  const test = testError === null ? "n/a" : `${percent(testError)} %`;
  return [
    "Optimization complete.",
    `Best validation score of ${best} obtained at iteration ${bestIter}, with test performance ${test}`,
    `The code ran for ${(wallSeconds / 60).toFixed(2)}m`,
  ];
}
