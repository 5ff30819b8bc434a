/**
 * The training settings of LeNet-5's reproduction of the DeepLearningTutorials' experiment, by
 * preset: what `lenet-cli --preset` and the web app start from.
 */

import type { LeNet5Init } from "./lenet5.js";

/** The names of the presets. */
export type LeNet5PresetName = "tutorial" | "listing" | "quick";

/** Every setting a preset fixes. */
export interface LeNet5Preset {
  /** Training images per minibatch. */
  batchSize: number;
  /** SGD learning rate. */
  lr: number;
  /** At most this many passes over the training images (the tutorial's n_epochs). */
  epochs: number;
  /** Initial patience of the early stopping rule, in iterations (minibatches). */
  patience: number;
  /** Patience becomes max(patience, iteration x this) after a significant improvement. */
  patienceIncrease: number;
  /** An improvement counts as significant when error < best x this. */
  improvementThreshold: number;
  /** Seed of the weight initialisation (numpy-compatible RandomState, drawn in the tutorial's order). */
  seed: number;
  /** Train on the first N training images only (null: all 50,000). */
  limitTrain: number | null;
  /** Validate on the first N validation images only (null: all 10,000). */
  limitValid: number | null;
  /** Test on the first N test images only (null: all 10,000). */
  limitTest: number | null;
  /** Images per forward pass when measuring errors (does not change any result). */
  evalBatchSize: number;
  /** How the drawn conv filters become weights: "theano-conv" flips each (the tutorial's exact start), "as-drawn" keeps them (its mirror image). */
  init: LeNet5Init;
  /** Filters of the two convolutional layers (the chapter's nkerns). */
  kernels: [number, number];
  /** Side of the square convolution filters. */
  filterSize: number;
  /** Side of the square max-pooling windows (also their stride). */
  poolSize: number;
  /** Units of the tanh hidden layer. */
  hidden: number;
}

/** `convolutional_mlp.py`'s `evaluate_lenet5` with the settings behind the published results. */
const TUTORIAL: LeNet5Preset = {
  batchSize: 500,
  lr: 0.1,
  epochs: 200,
  patience: 10_000,
  patienceIncrease: 2,
  improvementThreshold: 0.995,
  seed: 23455,
  limitTrain: null,
  limitValid: null,
  limitTest: null,
  evalBatchSize: 500,
  // The chapter's network, started exactly where its Theano program started.
  init: "theano-conv",
  kernels: [20, 50],
  filterSize: 5,
  poolSize: 2,
  hidden: 500,
};

/**
 * The presets: `tutorial` (the published experiment: batch 500, up to 200 epochs with early
 * stopping), `listing` (the chapter's code listing: batch 20), `quick` (2 epochs of the first
 * 10,000 images at batch 20; about 4 % test error).
 */
export const LENET5_PRESETS: Readonly<Record<LeNet5PresetName, Readonly<LeNet5Preset>>> = Object.freeze({
  tutorial: Object.freeze(TUTORIAL),
  listing: Object.freeze({ ...TUTORIAL, batchSize: 20 }),
  quick: Object.freeze({ ...TUTORIAL, batchSize: 20, epochs: 2, limitTrain: 10_000 }),
});

/** The preset names, in the order tools list them. */
export const LENET5_PRESET_NAMES: readonly LeNet5PresetName[] = Object.freeze(["tutorial", "listing", "quick"]);
