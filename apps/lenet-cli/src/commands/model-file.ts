import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { CheckpointError, LeNet5, loadCheckpoint, loadSafetensors } from "@tessera/nn";
import { CliError, oneLine } from "../cli/errors.js";
import { shownPath } from "../cli/user-paths.js";
import { PRESETS } from "../config/settings.js";
import { type NetworkOptions, networkFromArchitecture, networkOf } from "../model/network.js";

/** A checkpoint argument: a .safetensors file, or a run directory (its best.safetensors). */
export async function checkpointPath(arg: string, cwd: string): Promise<string> {
  const path = resolve(cwd, arg);
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch {
    throw new CliError(`${shownPath(arg, path)}: no such checkpoint file or run directory`);
  }
  return st.isDirectory() ? join(path, "best.safetensors") : path;
}

/**
 * The LeNet-5 a checkpoint's architecture metadata describes (its kernels, filter and pooling
 * sizes, hidden units), with the checkpoint's weights, and the checkpoint's metadata. A file
 * without that record (a PyTorch state dict, say) is taken for the tutorial's LeNet-5.
 */
export async function loadModel(path: string): Promise<{ model: LeNet5; metadata: Record<string, unknown>; network: NetworkOptions; recorded: boolean }> {
  let model: LeNet5 | null = null;
  let assumed = "";
  try {
    const { metadata: raw } = await loadSafetensors(path);
    let architecture: unknown;
    if (raw.architecture !== undefined) {
      try {
        architecture = JSON.parse(raw.architecture);
      } catch {
        throw new Error(`its architecture metadata is not JSON: ${JSON.stringify(raw.architecture.slice(0, 80))}`);
      }
    }
    const recorded = networkFromArchitecture(architecture);
    const network = recorded ?? networkOf(PRESETS.tutorial);
    if (!recorded) assumed = " (it records no architecture, so it was taken for the tutorial's LeNet-5)";
    model = new LeNet5(network);
    const { metadata } = await loadCheckpoint(path, model);
    return { model, metadata, network, recorded: recorded !== null };
  } catch (err) {
    model?.dispose();
    // a CheckpointError's message starts with the path already: say it once
    const reason = err instanceof CheckpointError && err.source === path ? err.reason : oneLine(err);
    throw new CliError(`cannot load ${path}: ${reason.split("\n")[0]!.trim()}${assumed}`);
  }
}
