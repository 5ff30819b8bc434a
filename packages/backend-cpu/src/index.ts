/**
 * @tessera/backend-cpu: the CPU backend. Importing this package registers it under the name
 * `cpu` as the default backend.
 */
import { registerBackend } from "@tessera/tensor";
import { createCpuBackend } from "./backend.js";

export { type ArenaReport, type CpuBackend, type CpuBackendOptions, createCpuBackend } from "./backend.js";
export type { SimdFlavour } from "./wasm/features.js";

registerBackend("cpu", () => createCpuBackend(), 1);
