import { type Tensor, tensor } from "@tessera/tensor";
import type { Module } from "../module.js";
import type { Optimizer } from "../optim/optimizer.js";
import { type CheckpointMetadata, checkpointHeader, type LoadedCheckpoint, loadArraysInto, parseCheckpointHeader, toNamedArrays } from "./checkpoint-bytes.js";
import { CheckpointError, type NamedArray } from "./safetensors.js";
import { loadSafetensors, saveSafetensors } from "./safetensors-file.js";

function sidecar(path: string): string {
  return path.replace(/\.safetensors$/, "") + ".optim.safetensors";
}

/**
 * Saves a module's state dict as safetensors (loadable by PyTorch's `load_state_dict` as is).
 * `metadata` goes into the header's `__metadata__` as JSON strings, with `architecture` (class and
 * config) when the module describes itself (`Module.architecture()`; an explicit
 * `metadata.architecture` wins); optimizer tensors (momentum...) go to a sibling
 * `<name>.optim.safetensors`. Every file is written atomically.
 */
export async function saveCheckpoint(path: string, model: Module, options: { optimizer?: Optimizer; metadata?: CheckpointMetadata } = {}): Promise<void> {
  const meta = checkpointHeader(model, options.metadata);
  if (options.optimizer) {
    const state = options.optimizer.stateDict();
    meta.optimizer = JSON.stringify({ type: options.optimizer.constructor.name, scalars: state.scalars, tensors: state.tensors.size });
    // The sidecar carries the same id, so a crash between the two writes is caught on load.
    if (state.tensors.size > 0) await saveSafetensors(sidecar(path), await toNamedArrays(state.tensors), { tessera: meta.tessera! });
  }
  await saveSafetensors(path, await toNamedArrays(model.stateDict()), meta);
}

/**
 * Loads a checkpoint into `model` (names and shapes checked by `loadStateDict`) and, when given,
 * the optimizer's state, which must have been saved by an optimizer of the same type. Returns the
 * metadata saved with it. The optimizer state is checked before the model is changed.
 */
export async function loadCheckpoint(path: string, model: Module, options: { optimizer?: Optimizer; strict?: boolean } = {}): Promise<LoadedCheckpoint> {
  const { tensors, metadata } = await loadSafetensors(path);
  const out = parseCheckpointHeader(metadata);
  let optArrays: Map<string, NamedArray> | undefined;
  let optScalars: Record<string, number> = {};
  if (options.optimizer) {
    const info = out.optimizer as { type?: string; scalars?: Record<string, number>; tensors?: number } | undefined;
    if (!info) throw new CheckpointError(path, "no optimizer state was saved in it");
    const given = options.optimizer.constructor.name;
    // SGD's momentum is not Adam's moments: loading one into the other would train wrongly, silently.
    if (typeof info.type === "string" && info.type !== given) {
      throw new CheckpointError(path, `its optimizer state was saved by ${info.type}, but the given optimizer is ${given}`);
    }
    optScalars = info.scalars ?? {};
    optArrays = new Map();
    if (info.tensors) {
      const side = await loadSafetensors(sidecar(path));
      if (side.metadata.tessera !== metadata.tessera) {
        throw new CheckpointError(sidecar(path), `belongs to another save than ${path} (interrupted save?): its optimizer state does not match the weights`);
      }
      optArrays = side.tensors;
    }
  }
  loadArraysInto(model, tensors, options.strict ?? true);
  if (options.optimizer && optArrays) {
    const optTensors = new Map<string, Tensor>();
    for (const [name, a] of optArrays) optTensors.set(name, tensor(a.data, { dtype: a.dtype, shape: a.shape }));
    try {
      options.optimizer.loadStateDict({ tensors: optTensors, scalars: optScalars });
    } finally {
      for (const t of optTensors.values()) t.dispose();
    }
  }
  return { metadata: out };
}
