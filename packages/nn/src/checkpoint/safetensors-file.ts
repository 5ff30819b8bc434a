/** Safetensors files on disk (Node); the format itself is in safetensors.ts. */
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "./atomic-write.js";
import { CheckpointError, decodeSafetensors, encodeSafetensorsAs, type NamedArray, type SafetensorsContents } from "./safetensors.js";

/** Writes a safetensors file atomically: the target holds either its old contents or the complete new checkpoint. */
export async function saveSafetensors(
  path: string,
  tensors: Map<string, NamedArray> | Record<string, NamedArray>,
  metadata?: Record<string, string>,
): Promise<void> {
  const bytes = encodeSafetensorsAs(path, tensors, metadata);
  try {
    await writeFileAtomic(path, bytes);
  } catch (err) {
    throw new CheckpointError(path, `cannot write file: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads and validates a safetensors file; errors are {@link CheckpointError}s naming the path. */
export async function loadSafetensors(path: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new CheckpointError(path, `cannot read file: ${(err as Error).message}`, { cause: err });
  }
  return decodeSafetensors(bytes, path);
}
