import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// The compiled CLI as a real process; only when it was built (pnpm --filter lenet-cli build).
const main = join(__dirname, "..", "dist", "main.js");
const built = existsSync(main);

describe.skipIf(!built)("dist/main.js", () => {
  it("prints the help and exits 0", () => {
    const r = spawnSync(process.execPath, [main, "--help"], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^lenet-cli: trains and runs LeNet-5/);
    expect(r.stdout).toContain("--limit-train N");
  });

  it("exits 2 with one error line and the usage on a bad flag", () => {
    const r = spawnSync(process.execPath, [main, "--epochs", "zero"], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")[0]).toBe('lenet-cli: --epochs: expected a positive integer, got "zero"');
    expect(r.stderr.split("\n")[1]).toMatch(/^Usage: lenet-cli/);
  });
});
