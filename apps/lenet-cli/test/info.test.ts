import { describe, expect, it } from "vitest";
import { cli } from "./helpers.js";

describe("info", () => {
  it("lists the backends and whether each starts here", async () => {
    const r = await cli(["info"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^lenet-cli \d+\.\d+\.\d+ on node v\d+/);
    expect(lines[1]).toBe("backends:");
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}cpu {6}works.*\(default\)$/));
    // WebGPU depends on the machine: an adapter (or a software one), or a one-line reason.
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}webgpu {3}(works|unavailable)/));
  });
});
