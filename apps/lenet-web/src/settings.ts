/**
 * What a page address asks for: `?preset=quick&limitTrain=N&backend=webgpu|cpu&autostart=1`,
 * plus `epochs`, `limitValid` and `limitTest`. Every parameter is optional; a bad one is
 * reported, never silently replaced.
 */
import { LENET5_PRESET_NAMES, LENET5_PRESETS, type LeNet5Preset, type LeNet5PresetName } from "@tessera/nn";

/** The backend a run asks for: `auto` picks WebGPU when the browser gives an adapter, else the CPU. */
export type BackendChoice = "auto" | "webgpu" | "cpu";

/** Everything a training run in the page uses. */
export interface WebSettings extends LeNet5Preset {
  preset: LeNet5PresetName;
  backend: BackendChoice;
  /** Start training once the page has loaded, without a click. */
  autostart: boolean;
}

/** A query string that cannot be used, with every problem found. */
export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`bad page address: ${problems.join("; ")}`);
    this.name = "SettingsError";
  }
}

const BACKENDS: readonly BackendChoice[] = ["auto", "webgpu", "cpu"];

/** Settings from a query string (`location.search`), starting from the preset (quick by default). */
export function settingsFromQuery(search: string): WebSettings {
  const q = new URLSearchParams(search);
  const problems: string[] = [];
  const presetName = (q.get("preset") ?? "quick") as LeNet5PresetName;
  if (!LENET5_PRESET_NAMES.includes(presetName)) problems.push(`preset=${presetName}: expected one of ${LENET5_PRESET_NAMES.join(", ")}`);
  const preset = LENET5_PRESETS[presetName] ?? LENET5_PRESETS.quick;
  const backend = (q.get("backend") ?? "auto") as BackendChoice;
  if (!BACKENDS.includes(backend)) problems.push(`backend=${backend}: expected one of ${BACKENDS.join(", ")}`);
  const count = (key: string, fallback: number | null, max: number): number | null => {
    const raw = q.get(key);
    if (raw === null || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      problems.push(`${key}=${raw}: expected a whole number from 1 to ${max}`);
      return fallback;
    }
    return n;
  };
  const autostart = q.get("autostart");
  if (autostart !== null && !["0", "1", "true", "false", ""].includes(autostart)) problems.push(`autostart=${autostart}: expected 1 or 0`);
  const settings: WebSettings = {
    ...preset,
    preset: presetName,
    backend,
    limitTrain: count("limitTrain", preset.limitTrain, 50_000),
    limitValid: count("limitValid", preset.limitValid, 10_000),
    limitTest: count("limitTest", preset.limitTest, 10_000),
    epochs: count("epochs", preset.epochs, 1000) ?? preset.epochs,
    autostart: autostart === "1" || autostart === "true" || autostart === "",
  };
  if (settings.limitTrain !== null && settings.limitTrain < settings.batchSize) {
    problems.push(`limitTrain=${settings.limitTrain}: smaller than one minibatch of the ${presetName} preset (${settings.batchSize} images)`);
  }
  if (problems.length > 0) throw new SettingsError(problems);
  return settings;
}
