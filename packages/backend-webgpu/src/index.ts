/// <reference types="@webgpu/types" />
/**
 * @tessera/backend-webgpu: Tessera's WebGPU backend (Dawn in Node, `navigator.gpu` in browsers).
 * Importing the package registers it under the name `webgpu`.
 */
export { createWebGPUBackend, KERNEL_TUNING_ENV, WebGPUBackend, type WebGPUBackendOptions, type WebGPUStats } from "./backend.js";
export { WebGPUBuffer } from "./buffer.js";
export { sizeClass } from "./buffer-pool.js";
export { type AcquiredDevice, type AdapterSummary, DAWN_FLAGS_ENV, type DeviceOptions, parseDawnFlags } from "./device.js";
export {
  WebGPUBackendError,
  WebGPUDeviceLostError,
  WebGPUExecutionError,
  WebGPULimitError,
  WebGPUOutOfMemoryError,
  WebGPUUnavailableError,
} from "./errors.js";

import { registerBackend } from "@tessera/tensor";
import { createWebGPUBackend } from "./backend.js";

/**
 * Registry priority of the webgpu backend: 0, below the CPU backend's 1, so a machine whose only
 * "GPU" is a software rasteriser (lavapipe) never switches to it silently; choose it with
 * `await setBackend("webgpu")`.
 */
export const WEBGPU_PRIORITY = 0;

registerBackend("webgpu", () => createWebGPUBackend(), WEBGPU_PRIORITY);
