import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/cli/run.js";
import { Capture, tempDir } from "./helpers.js";

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => tmp.cleanup());

describe("the progress bar on a terminal", () => {
  it("shows the best validation error of the validation just printed, not the one before it", async () => {
    // 100 training images in 5 minibatches of 20: a validation after each of the 2 epochs.
    const stdout = new Capture(true);
    const stderr = new Capture();
    const flags = ["--limit-train", "100", "--batch-size", "20", "--limit-valid", "100", "--limit-test", "100", "--epochs", "2"];
    const code = await runCli([...flags, "--out", join(tmp.dir, "run")], { stdout, stderr, cwd: tmp.dir });
    expect(stderr.text).toBe("");
    expect(code).toBe(0);
    // Every line printed during training is followed by the bar, redrawn in place.
    const after = [...stdout.text.matchAll(/(epoch \d, minibatch 5\/5, (validation|test) error[^\n]*? (\d+\.\d{6}) %)\n\r([^\r\x1b]*)\x1b\[K/g)];
    const validations = after.filter((m) => m[2] === "validation");
    expect(validations).toHaveLength(2);
    let best = Number.POSITIVE_INFINITY;
    for (const m of after) {
      if (m[2] === "validation") best = Math.min(best, Number(m[3]));
      expect(m[4], m[1]).toContain(`| best val ${best.toFixed(2)} % |`);
    }
  });
});
