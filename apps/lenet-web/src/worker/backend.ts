/** Starts the backend a run asks for, in the worker. */
import type { CpuBackend } from "@tessera/backend-cpu";
import type { WebGPUBackend } from "@tessera/backend-webgpu";
import { setBackend } from "@tessera/tensor";
import type { BackendInfo } from "../protocol.js";
import type { BackendChoice } from "../settings.js";

/** Whether this browser gives a WebGPU adapter (asked without starting a device). */
async function hasWebGPU(): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/**
 * `webgpu` when asked for, or for `auto` when the browser gives an adapter; otherwise `cpu`,
 * with its second kernel thread started when the page is cross-origin isolated.
 */
export async function startBackend(choice: BackendChoice): Promise<BackendInfo> {
  if (choice === "webgpu" || (choice === "auto" && (await hasWebGPU()))) {
    const gpu = (await setBackend("webgpu")) as WebGPUBackend;
    const a = gpu.adapter;
    const name = [a.vendor, a.architecture, a.description].filter((s) => s).join(" ") || "unnamed adapter";
    return { name: "webgpu", detail: `WebGPU on ${name}${a.isFallbackAdapter ? " (software fallback)" : ""}` };
  }
  const cpu = (await setBackend("cpu")) as CpuBackend;
  await cpu.ready();
  const kernels = cpu.engine === "wasm" ? `WebAssembly ${cpu.simd} SIMD` : `JavaScript kernels (${cpu.fallbackReason ?? "asked for"})`;
  const why = cpu.threads === 1 && !self.crossOriginIsolated ? ", the page is not cross-origin isolated" : "";
  return { name: "cpu", detail: `${kernels}, ${cpu.threads} thread${cpu.threads === 1 ? "" : "s"}${why}`, threads: cpu.threads };
}
