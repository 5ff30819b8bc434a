import { UsageError } from "../cli/errors.js";
import type { FlagValues } from "../cli/flags.js";
import { LENET5_INITS } from "@tessera/nn";
import { ARCHITECTURE_KEYS, BACKEND_NAMES, PRESETS, PRESET_NAMES, type TrainSettings } from "./settings.js";

/** The settings of a new run: the preset's values, then every flag given explicitly. */
export function settingsFromFlags(flags: Partial<FlagValues>): TrainSettings {
  const preset = flags.preset ?? "tutorial";
  const s: TrainSettings = { preset, backend: "cpu", data: null, ...PRESETS[preset] };
  return applyOverrides(s, flags);
}

function applyOverrides(s: TrainSettings, flags: Partial<FlagValues>): TrainSettings {
  const out = { ...s };
  if (flags.backend !== undefined) out.backend = flags.backend;
  if (flags.batchSize !== undefined) out.batchSize = flags.batchSize;
  if (flags.lr !== undefined) out.lr = flags.lr;
  if (flags.epochs !== undefined) out.epochs = flags.epochs;
  if (flags.patience !== undefined) out.patience = flags.patience;
  if (flags.seed !== undefined) out.seed = flags.seed;
  if (flags.limitTrain !== undefined) out.limitTrain = flags.limitTrain;
  if (flags.limitValid !== undefined) out.limitValid = flags.limitValid;
  if (flags.limitTest !== undefined) out.limitTest = flags.limitTest;
  if (flags.data !== undefined) out.data = flags.data;
  if (flags.init !== undefined) out.init = flags.init;
  if (flags.kernels !== undefined) out.kernels = flags.kernels;
  if (flags.filterSize !== undefined) out.filterSize = flags.filterSize;
  if (flags.poolSize !== undefined) out.poolSize = flags.poolSize;
  if (flags.hidden !== undefined) out.hidden = flags.hidden;
  return out;
}

/** Settings a resumed run may not change: they decide which images each iteration trains on, or the initial weights. */
const FIXED_ON_RESUME = [
  ["preset", "--preset"],
  ["batchSize", "--batch-size"],
  ["limitTrain", "--limit-train"],
  ["seed", "--seed"],
  ["patience", "--patience"],
  // The network's shape and start: the saved weights are of this network.
  ["init", "--init"],
  ["kernels", "--kernels"],
  ["filterSize", "--filter-size"],
  ["poolSize", "--pool-size"],
  ["hidden", "--hidden"],
] as const;

/**
 * The settings of a resumed run: those saved in its config.json, with the flags given now
 * overriding them (more --epochs, another --backend, a lower --lr...). Flags that would change
 * what the saved position means are refused.
 */
export function settingsForResume(saved: TrainSettings, flags: Partial<FlagValues>): TrainSettings {
  for (const [key, flag] of FIXED_ON_RESUME) {
    const given = flags[key];
    if (given !== undefined && String(given) !== String(saved[key])) {
      throw new UsageError(`${flag} cannot change when resuming (the run used ${saved[key] ?? "none"}, got ${given})`);
    }
  }
  return applyOverrides(saved, flags);
}

/**
 * What a config.json written before the network flags existed ran: the tutorial's shape, with
 * the drawn filters used as drawn.
 */
const BEFORE_NETWORK_FLAGS: Pick<TrainSettings, (typeof ARCHITECTURE_KEYS)[number]> = {
  init: "as-drawn",
  kernels: [20, 50],
  filterSize: 5,
  poolSize: 2,
  hidden: 500,
};

/** Checks settings read back from a config.json. */
export function asSettings(value: unknown, source: string): TrainSettings {
  const bad = (what: string) => new Error(`${source}: settings.${what} is missing or invalid`);
  if (!value || typeof value !== "object") throw new Error(`${source}: no settings`);
  const v = (ARCHITECTURE_KEYS.every((k) => !(k in value)) ? { ...BEFORE_NETWORK_FLAGS, ...value } : value) as Partial<TrainSettings>;
  if (!PRESET_NAMES.includes(v.preset!)) throw bad("preset");
  if (!BACKEND_NAMES.includes(v.backend!)) throw bad("backend");
  for (const k of ["batchSize", "epochs", "patience", "seed", "evalBatchSize"] as const) if (!Number.isInteger(v[k])) throw bad(k);
  for (const k of ["lr", "patienceIncrease", "improvementThreshold"] as const) if (typeof v[k] !== "number") throw bad(k);
  for (const k of ["limitTrain", "limitValid", "limitTest"] as const) if (v[k] !== null && !Number.isInteger(v[k])) throw bad(k);
  if (v.data !== null && typeof v.data !== "string") throw bad("data");
  if (!LENET5_INITS.includes(v.init!)) throw bad("init");
  for (const k of ["filterSize", "poolSize", "hidden"] as const) if (!Number.isInteger(v[k]) || v[k]! < 1) throw bad(k);
  if (!Array.isArray(v.kernels) || v.kernels.length !== 2 || !v.kernels.every((n) => Number.isInteger(n) && n >= 1)) throw bad("kernels");
  return v as TrainSettings;
}
