import { describe, expect, it } from "vitest";
import { cli } from "./helpers.js";

const ENV = "TESSERA_WEBGPU_DAWN_FLAGS";

/** Whether Dawn's Node bindings load here (the null backend needs nothing else: no GPU, no driver). */
async function dawnLoads(): Promise<boolean> {
  try {
    const { createWebGPUBackend } = await import("@tessera/backend-webgpu");
    (await createWebGPUBackend({ dawnFlags: ["backend=null"] })).dispose();
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!(await dawnLoads()))(`${ENV}`, () => {
  it("chooses the adapter --backend webgpu starts on (here Dawn's null backend, as `info` shows)", async () => {
    const saved = process.env[ENV];
    process.env[ENV] = "backend=null";
    try {
      const r = await cli(["info"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^ {2}webgpu {3}works: null-backend$/m);
    } finally {
      if (saved === undefined) delete process.env[ENV];
      else process.env[ENV] = saved;
    }
  });
});
