import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TINY, cli, tempDir } from "./helpers.js";

/**
 * Why a missing adapter must fail this file, or null when it may skip: `TESSERA_REQUIRE_WEBGPU`
 * (set by .ci/run) decides when set, otherwise `CI=true` (the rule of backend-webgpu's tests).
 */
function webgpuRequirement(env = process.env): string | null {
  const flag = env.TESSERA_REQUIRE_WEBGPU;
  if (flag !== undefined && flag !== "") return flag === "0" || flag === "false" ? null : `TESSERA_REQUIRE_WEBGPU=${flag}`;
  return env.CI === "true" || env.CI === "1" ? `CI=${env.CI}` : null;
}

/** Whether a WebGPU adapter starts here (lavapipe on CPU-only CI machines); throws where it is required. */
async function webgpuWorks(): Promise<boolean> {
  try {
    const { createWebGPUBackend } = await import("@tessera/backend-webgpu");
    const backend = await createWebGPUBackend();
    await backend.dispose?.();
    return true;
  } catch (e) {
    const requirement = webgpuRequirement();
    if (!requirement) return false;
    // A skip here would leave CI green with `--backend webgpu` untested.
    throw new Error(
      `WebGPU is required here (${requirement}) but no adapter started: ${e instanceof Error ? e.message : String(e)}\n` +
        "CI machines have no GPU, so WebGPU runs on Mesa's software Vulkan driver (lavapipe): .ci/run installs " +
        "mesa-vulkan-drivers 25.x from bookworm-backports (needs root and apt). Install it, or set " +
        "TESSERA_REQUIRE_WEBGPU=0 to let this test skip.",
    );
  }
}

const skipSlow = process.env.LENET_CLI_SKIP_SLOW === "1";
// Not probed when the slow tests are skipped anyway, so LENET_CLI_SKIP_SLOW=1 never needs an adapter.
const available = !skipSlow && (await webgpuWorks());
let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => tmp?.cleanup());

// The same seeded run on both backends: the numbers differ only by float rounding, so the errors
// must land in the same band.
describe.skipIf(!available)("lenet-cli --backend webgpu", () => {
  it("trains, and reaches the CPU's error band on the same seeded run", async () => {
    const summaries: Record<string, { test_error: number; best_validation_error: number; backend: string }> = {};
    for (const backend of ["cpu", "webgpu"]) {
      const out = join(tmp.dir, backend);
      const r = await cli([...TINY, "--epochs", "1", "--backend", backend, "--out", out]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      summaries[backend] = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
    }
    console.log(`cpu test error ${summaries.cpu!.test_error} %, webgpu ${summaries.webgpu!.test_error} %`);
    expect(summaries.webgpu!.backend).toBe("webgpu");
    expect(summaries.webgpu!.test_error).toBeLessThan(30);
    expect(Math.abs(summaries.webgpu!.test_error - summaries.cpu!.test_error)).toBeLessThanOrEqual(2);
    expect(Math.abs(summaries.webgpu!.best_validation_error - summaries.cpu!.best_validation_error)).toBeLessThanOrEqual(2);
  }, 900_000);
});
