import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TINY, cli, tempDir } from "./helpers.js";

/** Whether a WebGPU adapter starts here (lavapipe on CPU-only CI machines). */
async function webgpuWorks(): Promise<boolean> {
  try {
    const { createWebGPUBackend } = await import("@tessera/backend-webgpu");
    const backend = await createWebGPUBackend();
    await backend.dispose?.();
    return true;
  } catch {
    return false;
  }
}

const available = await webgpuWorks();
let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => tmp?.cleanup());

// The same seeded run on both backends: the numbers differ only by float rounding, so the errors
// must land in the same band.
describe.skipIf(!available || process.env.LENET_CLI_SKIP_SLOW === "1")("lenet-cli --backend webgpu", () => {
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
