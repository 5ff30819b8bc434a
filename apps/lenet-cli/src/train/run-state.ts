import type { RandomStateSnapshot } from "@tessera/tensor";
import type { TrainSettings } from "../config/settings.js";
import type { MetricsRow } from "../report/metrics.js";
import type { EarlyStoppingState } from "@tessera/nn";

/** Why a finished run stopped. */
export type StopReason = "patience" | "epochs";

/** Sums over the minibatches since the last validation. */
export interface IntervalTotals {
  lossSum: number;
  steps: number;
  images: number;
  trainSeconds: number;
}

/**
 * Everything needed to continue a run exactly where it stood, saved as JSON in the metadata of
 * last.safetensors (with the weights and the optimizer state beside it).
 */
export interface RunState {
  format: typeof RUN_STATE_FORMAT;
  /** Epoch (1-based) of the next minibatch to train. */
  epoch: number;
  /** Index (0-based) of the next minibatch to train in that epoch. */
  minibatch: number;
  /** Set when the run is over. */
  stopReason: StopReason | null;
  earlyStopping: EarlyStoppingState;
  /** Epoch and minibatch index of the best validation, null before any. */
  best: { epoch: number; minibatch: number } | null;
  /** Every validation so far (the rows of metrics.csv). */
  history: MetricsRow[];
  interval: IntervalTotals;
  totals: { steps: number; images: number; trainSeconds: number; elapsedSeconds: number };
  /** The weight-initialisation generator after drawing the initial weights. */
  rng: RandomStateSnapshot;
  /** The settings the state was saved with. */
  settings: TrainSettings;
}

export const RUN_STATE_FORMAT = "lenet-cli-run-1";

/** Checks that metadata holds a RunState; throws with a reason otherwise. */
export function asRunState(value: unknown): RunState {
  const v = value as Partial<RunState> | undefined;
  if (!v || typeof v !== "object" || v.format !== RUN_STATE_FORMAT) throw new Error(`no ${RUN_STATE_FORMAT} training state in its metadata`);
  for (const k of ["epoch", "minibatch"] as const) if (!Number.isInteger(v[k])) throw new Error(`training state: ${k} is not an integer`);
  if (!v.earlyStopping || !Array.isArray(v.history) || !v.interval || !v.totals || !v.rng || !v.settings) throw new Error("training state is incomplete");
  return v as RunState;
}
