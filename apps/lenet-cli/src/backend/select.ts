import "@tessera/backend-cpu";
import { type Backend, listBackends, setBackend } from "@tessera/tensor";
import { CliError, oneLine } from "../cli/errors.js";
import type { BackendName } from "../config/settings.js";

/** What the WebGPU backend says about its adapter (see @tessera/backend-webgpu's AdapterSummary). */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

/** The backend a command computes on. */
export interface ActiveBackend {
  name: BackendName;
  backend: Backend;
  adapter: AdapterInfo | null;
  /** What the backend says about how it computes, when it says (the CPU backend: `engine`, `fallbackReason`). */
  details: Record<string, string>;
}

/** The string fields a backend reports about its kernels (read defensively: not part of the Backend contract). */
function detailsOf(backend: Backend): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ["engine", "fallbackReason"]) {
    const v = (backend as unknown as Record<string, unknown>)[key];
    if (typeof v === "string" && v) out[key] = v;
  }
  return out;
}

// A computed specifier: the package is loaded only when asked for, and this CLI builds and runs
// (on the CPU) even where the WebGPU package is missing or broken.
const WEBGPU_PACKAGE = "@tessera/backend-webgpu";

let webgpuLoad: Promise<void> | null = null;

/** Imports @tessera/backend-webgpu once (registering the `webgpu` backend); rejects with a one-line reason. */
export function loadWebGPUPackage(): Promise<void> {
  webgpuLoad ??= import(/* @vite-ignore */ WEBGPU_PACKAGE).then(
    () => undefined,
    (err: unknown) => {
      throw new CliError(`the WebGPU backend cannot be loaded (${WEBGPU_PACKAGE}): ${oneLine(err)}`);
    },
  );
  return webgpuLoad;
}

function adapterOf(backend: Backend): AdapterInfo | null {
  const a = (backend as { adapter?: AdapterInfo }).adapter;
  return a && typeof a === "object" ? { ...a } : null;
}

/** Activates `name` (importing the WebGPU package on demand); a CliError with one line when it cannot. */
export async function useBackend(name: BackendName): Promise<ActiveBackend> {
  if (name === "webgpu") await loadWebGPUPackage();
  let backend: Backend;
  try {
    backend = await setBackend(name);
  } catch (err) {
    throw new CliError(`the ${name} backend does not work here: ${oneLine(err)}`);
  }
  return { name, backend, adapter: adapterOf(backend), details: detailsOf(backend) };
}

function kernelsDetail(d: Record<string, string>): string {
  return [d.engine ? `${d.engine} kernels` : "", d.fallbackReason ?? ""].filter(Boolean).join("; ");
}

/** One line of `info`: a backend and whether it starts. */
export interface BackendReport {
  name: string;
  ok: boolean;
  detail: string;
  adapter: AdapterInfo | null;
}

/** Tries every backend this CLI knows (cpu, webgpu) and reports which start on this machine. */
export async function probeBackends(): Promise<BackendReport[]> {
  const reports: BackendReport[] = [];
  let webgpuError: string | null = null;
  try {
    await loadWebGPUPackage();
  } catch (err) {
    webgpuError = oneLine(err);
  }
  const names = new Set<string>(["cpu", "webgpu", ...listBackends().map((b) => b.name)]);
  for (const name of names) {
    if (name === "webgpu" && webgpuError) {
      reports.push({ name, ok: false, detail: webgpuError, adapter: null });
      continue;
    }
    try {
      const backend = await setBackend(name);
      const adapter = adapterOf(backend);
      const detail = adapter
        ? [adapter.vendor, adapter.architecture, adapter.device, adapter.description].filter(Boolean).join(" / ") +
          (adapter.isFallbackAdapter ? " (software fallback adapter)" : "")
        : kernelsDetail(detailsOf(backend));
      reports.push({ name, ok: true, detail, adapter });
    } catch (err) {
      reports.push({ name, ok: false, detail: oneLine(err), adapter: null });
    }
  }
  await setBackend("cpu");
  return reports;
}
