import type { Backend } from "../backend/contract.js";
import { getBackend } from "../backend/registry.js";
import { type MemoryInfo, memoryOf } from "./storage.js";

/** Live tensors and bytes on a backend (the active one by default), plus the backend's own report. */
export function memory(backend: Backend = getBackend()): MemoryInfo {
  return memoryOf(backend);
}
