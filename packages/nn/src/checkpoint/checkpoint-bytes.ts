/**
 * Checkpoints in memory: a module's weights and metadata as the bytes of a safetensors file,
 * and back. `saveCheckpoint` / `loadCheckpoint` write and read the same bytes as files; a
 * browser saves and loads them as downloads and picked files. No Node built-ins.
 */
import { type Tensor, tensor } from "@tessera/tensor";
import type { Module } from "../module.js";
import { decodeSafetensors, encodeSafetensorsAs, type NamedArray } from "./safetensors.js";

/** What `saveCheckpoint` stores besides the weights: JSON-serialisable values (step, RNG state...). */
export type CheckpointMetadata = Record<string, unknown>;

/** What `loadCheckpoint` read back. */
export interface LoadedCheckpoint {
  /** The checkpoint's metadata: what was saved with it (epoch, iteration, settings...) and the architecture. */
  metadata: CheckpointMetadata;
}

/** Tensors read back to host arrays, by name. */
export async function toNamedArrays(tensors: Map<string, Tensor>): Promise<Map<string, NamedArray>> {
  const out = new Map<string, NamedArray>();
  for (const [name, t] of tensors) out.set(name, { dtype: t.dtype, shape: [...t.shape], data: await t.data() });
  return out;
}

/**
 * The header metadata of a checkpoint of `model`: our marker (with a fresh id that a sidecar
 * file repeats), the module's architecture when it describes itself (an explicit
 * `metadata.architecture` wins), then `metadata`'s values as JSON strings.
 */
export function checkpointHeader(model: Module, metadata: CheckpointMetadata = {}): Record<string, string> {
  // "pt" keeps Hugging Face loaders happy; our own marker is a separate key.
  const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  const meta: Record<string, string> = { format: "pt", tessera: JSON.stringify({ version: 1, id }) };
  // Recorded so a file says what model it holds without its reader knowing the training code.
  const architecture = model.architecture();
  if (architecture) meta.architecture = JSON.stringify(architecture);
  for (const [k, v] of Object.entries(metadata)) meta[k] = JSON.stringify(v);
  return meta;
}

/** Header metadata parsed back: JSON values where they parse, the strings otherwise. */
export function parseCheckpointHeader(metadata: Record<string, string>): CheckpointMetadata {
  const out: CheckpointMetadata = {};
  for (const [k, v] of Object.entries(metadata)) {
    try {
      out[k] = JSON.parse(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}

/** Loads host arrays into a module's parameters (names and shapes checked by `loadStateDict`). */
export function loadArraysInto(model: Module, arrays: Map<string, NamedArray>, strict: boolean): void {
  const state = new Map<string, Tensor>();
  for (const [name, a] of arrays) state.set(name, tensor(a.data, { dtype: a.dtype, shape: a.shape }));
  try {
    model.loadStateDict(state, { strict });
  } finally {
    for (const t of state.values()) t.dispose();
  }
}

/**
 * A module's weights as the bytes of a safetensors checkpoint, the same bytes `saveCheckpoint`
 * writes (without optimizer state): for a download, `fetch` body or IndexedDB.
 */
export async function encodeCheckpoint(model: Module, options: { metadata?: CheckpointMetadata } = {}): Promise<Uint8Array> {
  const header = checkpointHeader(model, options.metadata);
  return encodeSafetensorsAs("<memory>", await toNamedArrays(model.stateDict()), header);
}

/**
 * Loads the bytes of a safetensors checkpoint (from `encodeCheckpoint`, `saveCheckpoint`,
 * `lenet-cli` or PyTorch) into `model`, checking names and shapes (`strict`, default true), and
 * returns its metadata. `source` names the bytes in errors (a file name). The model is left
 * unchanged when the checkpoint is refused.
 */
export function decodeCheckpoint(bytes: Uint8Array, model: Module, options: { strict?: boolean; source?: string } = {}): LoadedCheckpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, options.source);
  loadArraysInto(model, tensors, options.strict ?? true);
  return { metadata: parseCheckpointHeader(metadata) };
}
