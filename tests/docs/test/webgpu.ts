/** Whether a WebGPU adapter starts here; in CI (or with TESSERA_REQUIRE_WEBGPU) a missing one is an error. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import "@tessera/backend-webgpu"; // registers "webgpu"
import { getBackendName, setBackend } from "@tessera/tensor";

// Dawn's Vulkan loader warns (and some drivers fail) without a runtime directory.
process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), "xdg-"));

function required(): string | null {
  const flag = process.env.TESSERA_REQUIRE_WEBGPU;
  if (flag !== undefined && flag !== "") return flag === "0" || flag === "false" ? null : `TESSERA_REQUIRE_WEBGPU=${flag}`;
  return process.env.CI === "true" || process.env.CI === "1" ? `CI=${process.env.CI}` : null;
}

let probe: Promise<string | null> | undefined;

/**
 * Null when an adapter starts; otherwise why not (or throws where WebGPU is required). The probe
 * initialises the registry's "webgpu" backend, which the examples' `setBackend("webgpu")` then
 * reuses (a device made and destroyed only to probe would cost one more), and leaves the active
 * backend as it was.
 */
export function webgpuUnavailable(): Promise<string | null> {
  const active = getBackendName();
  probe ??= setBackend("webgpu").then(
    async () => {
      await setBackend(active);
      return null;
    },
    (e: unknown) => {
      const reason = `no WebGPU adapter: ${e instanceof Error ? e.message : String(e)}`;
      const requirement = required();
      if (requirement) throw new Error(`WebGPU is required here (${requirement}) but ${reason}`);
      return reason;
    },
  );
  return probe;
}
