/**
 * Adapter and device acquisition. Three sources, in order: a device the caller passes in, the
 * runtime's `navigator.gpu` (browsers, Deno), and in Node Dawn's bindings from the `webgpu` package,
 * imported lazily so that a browser bundle never pulls in a native module.
 */
import { WebGPUBackendError, WebGPUUnavailableError } from "./errors.js";

/** Options accepted by `createWebGPUBackend`. */
export interface DeviceOptions {
  /** Use this device instead of requesting one; the backend then never destroys it. */
  device?: GPUDevice;
  /** Passed to `requestAdapter` (for example `high-performance` on laptops with two GPUs). */
  powerPreference?: GPUPowerPreference;
  /**
   * Flags for Dawn's Node bindings (`create(flags)` of the `webgpu` package), such as
   * `backend=null` (Dawn's null backend: no GPU work at all, for measuring host costs),
   * `backend=vulkan` or `enable-dawn-features=...`. Default: the environment variable
   * `TESSERA_WEBGPU_DAWN_FLAGS` (see `parseDawnFlags`), else none. Node only: a runtime with
   * `navigator.gpu` and no Dawn refuses them.
   */
  dawnFlags?: readonly string[];
}

/** The environment variable holding default Dawn flags, comma-separated. */
export const DAWN_FLAGS_ENV = "TESSERA_WEBGPU_DAWN_FLAGS";

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

interface NodeProcess {
  versions?: { node?: string };
  env?: Record<string, string | undefined>;
}

function nodeProcess(): NodeProcess | undefined {
  return (globalThis as { process?: NodeProcess }).process;
}

function isNode(): boolean {
  return typeof nodeProcess()?.versions?.node === "string";
}

/**
 * Splits a comma-separated list of Dawn flags (`TESSERA_WEBGPU_DAWN_FLAGS`). Every flag is
 * `key=value`; a piece without `=` continues the previous flag's value, so toggle lists such as
 * `backend=vulkan,enable-dawn-features=dump_shaders,disable_symbol_renaming` stay whole.
 */
export function parseDawnFlags(text: string): string[] {
  const flags: string[] = [];
  for (const raw of text.split(",")) {
    const piece = raw.trim();
    if (piece === "") continue;
    if (piece.includes("=")) flags.push(piece);
    else if (flags.length > 0) flags[flags.length - 1] += `,${piece}`;
    else throw new WebGPUBackendError(`${DAWN_FLAGS_ENV}: expected comma-separated key=value flags (for example backend=null), got ${JSON.stringify(text)}`);
  }
  return flags;
}

/** The flags `createWebGPUBackend` passes to Dawn: the option, else the environment variable. */
function resolveDawnFlags(options: DeviceOptions): readonly string[] {
  if (options.dawnFlags) {
    for (const f of options.dawnFlags) {
      if (typeof f !== "string" || !/^[^=\s]+=/.test(f)) {
        throw new WebGPUBackendError(`dawnFlags: expected key=value strings (for example "backend=null"), got ${JSON.stringify(f)}`);
      }
    }
    return options.dawnFlags;
  }
  const env = nodeProcess()?.env?.[DAWN_FLAGS_ENV];
  return env ? parseDawnFlags(env) : [];
}

/**
 * Dawn instances by flags, kept for the life of the process: every backend with the same flags
 * shares one. Tearing an instance down while another instance's device is working crashed the
 * process (seen on lavapipe), and a Vulkan instance per backend is wasteful anyway.
 */
const dawnInstances = new Map<string, GPU>();

async function nodeGPU(flags: readonly string[]): Promise<GPU> {
  const key = flags.join("\n");
  const existing = dawnInstances.get(key);
  if (existing) return existing;
  const gpu = await createDawnInstance(flags);
  dawnInstances.set(key, gpu);
  return gpu;
}

async function createDawnInstance(flags: readonly string[]): Promise<GPU> {
  // A computed specifier keeps bundlers (Vite, esbuild, webpack) from resolving the native module.
  const specifier = "webgpu";
  let mod: DawnModule;
  try {
    mod = (await import(/* @vite-ignore */ specifier)) as DawnModule;
  } catch (e) {
    throw new WebGPUUnavailableError(`could not load Dawn's Node bindings (the \`webgpu\` package): ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return mod.create([...flags]);
  } catch (e) {
    throw new WebGPUBackendError(`Dawn refused the flags ${flags.join(" ")}: ${e instanceof Error ? e.message : String(e)}`);
  }
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
    if (options.dawnFlags?.length) throw new WebGPUBackendError("dawnFlags: a backend on a given device requests nothing from Dawn; pass one or the other");
    return {
      device: options.device,
      owned: false,
      adapter: { vendor: "", architecture: "", device: "", description: "", isFallbackAdapter: false },
      release() {},
    };
  }
  const flags = resolveDawnFlags(options);
  // Flags only mean something to Dawn's bindings, so they choose Dawn even where navigator.gpu exists.
  let gpu: GPU | null = flags.length > 0 ? null : ((globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu ?? null);
  if (!gpu) {
    if (!isNode()) {
      throw flags.length > 0
        ? new WebGPUBackendError(`dawnFlags (${flags.join(" ")}) need Dawn's Node bindings; this runtime is not Node`)
        : new WebGPUUnavailableError("this runtime has no `navigator.gpu`");
    }
    gpu = await nodeGPU(flags);
  }
  const how = flags.length > 0 ? ` with Dawn flags ${flags.join(" ")}` : "";
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(options.powerPreference ? { powerPreference: options.powerPreference } : undefined);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    // With flags, the likely cause is the flags (Dawn checks `backend=` here), not a missing driver.
    throw flags.length > 0
      ? new WebGPUBackendError(`Dawn found no adapter${how}: ${detail}`)
      : new WebGPUUnavailableError(`requestAdapter() failed: ${detail}`);
  }
  if (!adapter) {
    throw new WebGPUUnavailableError(`no WebGPU adapter found (requestAdapter() returned null${how})`);
  }
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
  // Dawn tears its instance down when the GPU object is collected: Node's is kept (nodeGPU), a
  // browser's lives as long as the page.
  return {
    device,
    owned: true,
    adapter: summarise(adapter),
    release() {},
  };
}
