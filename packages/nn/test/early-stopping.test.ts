import { describe, expect, it } from "vitest";
import { EarlyStopping, type EarlyStoppingOptions } from "../src/training/early-stopping.js";

const TUTORIAL: EarlyStoppingOptions = { nTrainBatches: 100, patience: 10_000, patienceIncrease: 2, improvementThreshold: 0.995 };

interface Event {
  iter: number;
  epoch: number;
  minibatch: number;
  error: number;
  improved: boolean;
  patience: number;
}

/**
 * Drives the rule through the tutorial's loop (`while epoch < n_epochs and not done_looping`),
 * with `errorAt(k)` the validation error of the k-th validation (0-based).
 */
function simulate(options: EarlyStoppingOptions, epochs: number, errorAt: (k: number) => number) {
  const es = new EarlyStopping(options);
  const events: Event[] = [];
  let lastIter = -1;
  let stoppedEarly = false;
  outer: for (let epoch = 1; epoch <= epochs; epoch++) {
    for (let mb = 0; mb < options.nTrainBatches; mb++) {
      const iter = es.iteration(epoch, mb);
      lastIter = iter; // train_model(minibatch_index)
      if (es.isValidationIteration(iter)) {
        const error = errorAt(events.length);
        const { improved } = es.observeValidation(iter, error);
        if (improved) es.recordTestError(error / 2);
        events.push({ iter, epoch, minibatch: mb, error, improved, patience: es.patience });
      }
      if (es.shouldStop(iter)) {
        stoppedEarly = true;
        break outer;
      }
    }
  }
  return { es, events, lastIter, stoppedEarly };
}

describe("EarlyStopping", () => {
  it("validates once an epoch with the tutorial's settings (min(100, 10000 // 2) = 100)", () => {
    const es = new EarlyStopping(TUTORIAL);
    expect(es.validationFrequency).toBe(100);
    expect(es.iteration(1, 0)).toBe(0);
    expect(es.iteration(3, 99)).toBe(299);
    expect(es.isValidationIteration(98)).toBe(false);
    expect(es.isValidationIteration(99)).toBe(true);
    expect(es.isValidationIteration(16099)).toBe(true);
    expect(new EarlyStopping({ ...TUTORIAL, nTrainBatches: 2500 }).validationFrequency).toBe(2500); // the listing's batch 20
    expect(new EarlyStopping({ ...TUTORIAL, nTrainBatches: 2500, patience: 1000 }).validationFrequency).toBe(500);
    expect(new EarlyStopping({ ...TUTORIAL, patience: 1 }).validationFrequency).toBe(1);
  });

  it("follows a hand-simulated tutorial schedule: steady gains until epoch 51, then none", () => {
    // Validation after epoch e is at iter 100e - 1. Errors fall 1% (relative) a validation up to
    // epoch 51, then stay put. patience = max(10000, 2 iter) stays 10000 up to epoch 50
    // (2 x 4999 = 9998) and becomes 2 x 5099 = 10198 at epoch 51. Nothing improves afterwards,
    // so training stops once patience <= iter: at iter 10198, epoch 102, minibatch index 98.
    const { es, events, lastIter, stoppedEarly } = simulate(TUTORIAL, 200, (k) => 0.1 * 0.99 ** Math.min(k, 50));
    expect(events.slice(0, 3).map((e) => e.iter)).toEqual([99, 199, 299]);
    expect(events[49]).toMatchObject({ iter: 4999, epoch: 50, improved: true, patience: 10_000 });
    expect(events[50]).toMatchObject({ iter: 5099, epoch: 51, improved: true, patience: 10_198 });
    expect(events.slice(51).every((e) => !e.improved && e.patience === 10_198)).toBe(true);
    expect(events.at(-1)).toMatchObject({ iter: 10_099, epoch: 101 });
    expect(stoppedEarly).toBe(true);
    expect(lastIter).toBe(10_198);
    expect(Math.floor(lastIter / 100) + 1).toBe(102);
    expect(lastIter % 100).toBe(98);
    expect(es.bestIter).toBe(5099);
    expect(es.bestValidationError).toBeCloseTo(0.1 * 0.99 ** 50, 15);
    expect(es.testError).toBeCloseTo((0.1 * 0.99 ** 50) / 2, 15);
  });

  it("counts a small gain as the best without extending patience, and stops between validations", () => {
    // 7 minibatches an epoch, patience 10: validation every min(7, 5) = 5 iterations (4, 9, 14, 19).
    //   iter 4:  0.5   first validation: best; patience max(10, 8) = 10
    //   iter 9:  0.4   0.4 < 0.5 x 0.995: best; patience max(10, 18) = 18
    //   iter 14: 0.399 best, but not < 0.4 x 0.995 = 0.398: patience stays 18
    //   patience 18 <= iter at iter 18 (epoch 3, minibatch index 4): stop before the validation at 19.
    const errors = [0.5, 0.4, 0.399, 0.2];
    const { es, events, lastIter, stoppedEarly } = simulate(
      { nTrainBatches: 7, patience: 10, patienceIncrease: 2, improvementThreshold: 0.995 },
      100,
      (k) => errors[k]!,
    );
    expect(es.validationFrequency).toBe(5);
    expect(events.map((e) => [e.iter, e.improved, e.patience])).toEqual([
      [4, true, 10],
      [9, true, 18],
      [14, true, 18],
    ]);
    expect(stoppedEarly).toBe(true);
    expect(lastIter).toBe(18);
    expect(es.iteration(3, 4)).toBe(18);
    expect(es.bestIter).toBe(14);
    expect(es.bestValidationError).toBe(0.399);
  });

  it("ignores validations that do not beat the best, equal ones included", () => {
    const es = new EarlyStopping(TUTORIAL);
    expect(es.observeValidation(99, 0.05)).toEqual({ improved: true, patienceUpdated: true });
    expect(es.observeValidation(199, 0.05)).toEqual({ improved: false, patienceUpdated: false });
    expect(es.observeValidation(299, 0.06)).toEqual({ improved: false, patienceUpdated: false });
    expect(es.bestIter).toBe(99);
  });

  it("runs out of epochs before patience when epochs are few", () => {
    const { lastIter, stoppedEarly, events } = simulate(TUTORIAL, 3, () => 0.1);
    expect(stoppedEarly).toBe(false);
    expect(lastIter).toBe(299);
    expect(events.map((e) => e.improved)).toEqual([true, false, false]);
  });

  it("restores from a snapshot", () => {
    const es = new EarlyStopping(TUTORIAL);
    es.observeValidation(5099, 0.02);
    es.recordTestError(0.03);
    const copy = new EarlyStopping(TUTORIAL, JSON.parse(JSON.stringify(es.snapshot())));
    expect(copy.snapshot()).toEqual({ patience: 10_198, bestValidationError: 0.02, bestIter: 5099, testError: 0.03 });
    expect(copy.shouldStop(10_197)).toBe(false);
    expect(copy.shouldStop(10_198)).toBe(true);
  });
});
