import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { CheckpointError, LeNet5, loadCheckpoint } from "@tessera/nn";
import { CliError, oneLine } from "../cli/errors.js";
import { shownPath } from "../cli/user-paths.js";

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

/** LeNet-5 with the weights of a checkpoint, and the checkpoint's metadata. */
export async function loadModel(path: string): Promise<{ model: LeNet5; metadata: Record<string, unknown> }> {
  const model = new LeNet5();
  try {
    const { metadata } = await loadCheckpoint(path, model);
    return { model, metadata };
  } catch (err) {
    model.dispose();
    // a CheckpointError's message starts with the path already: say it once
    const reason = err instanceof CheckpointError && err.source === path ? err.reason : oneLine(err);
    throw new CliError(`cannot load ${path}: ${reason.split("\n")[0]!.trim()}`);
  }
}
