/**
 * Adapter and device acquisition. Three sources, in order: a device the caller passes in, the
 * runtime's `navigator.gpu` (browsers, Deno), and in Node Dawn's bindings from the `webgpu` package,
 * imported lazily so that a browser bundle never pulls in a native module.
 */
import { WebGPUUnavailableError } from "./errors.js";

/** Options accepted by `createWebGPUBackend`. */
export interface DeviceOptions {
  /** Use this device instead of requesting one; the backend then never destroys it. */
  device?: GPUDevice;
  /** Passed to `requestAdapter` (for example `high-performance` on laptops with two GPUs). */
  powerPreference?: GPUPowerPreference;
}

/** What the adapter says about itself (empty strings when the device was passed in). */
export interface AdapterSummary {
  /** The adapter's vendor. */
  vendor: string;
  /** The GPU family, as the adapter names it. */
  architecture: string;
  /** The device, as the adapter names it. */
  device: string;
  /** A human-readable description of the adapter. */
  description: string;
  /** True for software adapters such as Mesa's lavapipe or SwiftShader. */
  isFallbackAdapter: boolean;
}

/** A device plus what is needed to release it. */
export interface AcquiredDevice {
  /** The WebGPU device every buffer and kernel of the backend lives on. */
  device: GPUDevice;
  /** True when this package requested the device (and so may destroy it). */
  owned: boolean;
  /** What the adapter says about itself. */
  adapter: AdapterSummary;
  /** Drops the reference to Dawn's instance: while it is alive Node cannot exit. */
  release(): void;
}

interface DawnModule {
  create(options: string[]): GPU;
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === "string";
}

async function nodeGPU(): Promise<GPU> {
  // A computed specifier keeps bundlers (Vite, esbuild, webpack) from resolving the native module.
  const specifier = "webgpu";
  let mod: DawnModule;
  try {
    mod = (await import(/* @vite-ignore */ specifier)) as DawnModule;
  } catch (e) {
    throw new WebGPUUnavailableError(`could not load Dawn's Node bindings (the \`webgpu\` package): ${e instanceof Error ? e.message : String(e)}`);
  }
  return mod.create([]);
}

function summarise(adapter: GPUAdapter): AdapterSummary {
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  const fallback =
    (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  return {
    vendor: info?.vendor ?? "",
    architecture: info?.architecture ?? "",
    device: info?.device ?? "",
    description: info?.description ?? "",
    isFallbackAdapter: fallback,
  };
}

/** Finds a GPU and requests a device with the adapter's largest storage-buffer limits. */
export async function acquireDevice(options: DeviceOptions = {}): Promise<AcquiredDevice> {
  if (options.device) {
    return {
      device: options.device,
      owned: false,
      adapter: { vendor: "", architecture: "", device: "", description: "", isFallbackAdapter: false },
      release() {},
    };
  }
  let gpu: GPU | null = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu ?? null;
  if (!gpu) {
    if (!isNode()) throw new WebGPUUnavailableError("this runtime has no `navigator.gpu`");
    gpu = await nodeGPU();
  }
  const adapter = await gpu.requestAdapter(options.powerPreference ? { powerPreference: options.powerPreference } : undefined);
  if (!adapter) throw new WebGPUUnavailableError("no WebGPU adapter found (requestAdapter() returned null)");
  const limits = adapter.limits;
  // The defaults (128 MiB bindings, 256 MiB buffers) are far below what GPUs offer; tensors need it.
  // The default of 8 storage buffers per stage covers every kernel today; asking for the adapter's
  // maximum keeps room for wider fused kernels (pipelines.ts checks the limit either way).
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      },
    });
  } catch (e) {
    throw new WebGPUUnavailableError(`the adapter refused to create a device: ${e instanceof Error ? e.message : String(e)}`);
  }
  // Dawn tears its instance down when the GPU object is collected, so hold it while the device lives.
  const holder: { gpu: GPU | null } = { gpu };
  return {
    device,
    owned: true,
    adapter: summarise(adapter),
    release() {
      holder.gpu = null;
    },
  };
}
