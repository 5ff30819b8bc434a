import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFromRepo, linkRepoModules, scratchDir, sh, transcript } from "./scratch.js";

// `pnpm test` (scripts/test.mjs) on a scratch workspace of three packages: one passes (with a
// skipped test), one has a failing test, one a test file that does not load.
const TEST_SCRIPT = "vitest run --passWithNoTests --reporter=default --reporter=json --outputFile.json=.reports/vitest.json";

function writePackage(dir: string, name: string, test: string): void {
  mkdirSync(join(dir, "packages", name, "test"), { recursive: true });
  writeFileSync(join(dir, "packages", name, "package.json"), JSON.stringify({ name, private: true, type: "module", scripts: { test: TEST_SCRIPT } }));
  writeFileSync(join(dir, "packages", name, "test", "a.test.ts"), test);
}

describe("pnpm test", () => {
  let scratch: ReturnType<typeof scratchDir>;
  beforeAll(() => {
    scratch = scratchDir("tessera-test-total-");
    const dir = scratch.dir;
    copyFromRepo(dir, ["scripts/test.mjs", "scripts/count-tests.mjs"]);
    linkRepoModules(dir);
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "scratch", private: true, packageManager: "pnpm@10.34.9", scripts: { test: "node scripts/test.mjs" } }),
    );
    writeFileSync(join(dir, "pnpm-workspace.yaml"), "packages:\n  - packages/*\n");
    writeFileSync(join(dir, "turbo.json"), JSON.stringify({ tasks: { test: { outputs: [".reports/**"] } } }));
    const t = 'import { expect, test } from "vitest";\n';
    writePackage(dir, "passes", `${t}test("one", () => expect(1).toBe(1));\ntest("two", () => expect(2).toBe(2));\ntest.skip("later", () => {});\n`);
    writePackage(dir, "fails", `${t}test("good", () => expect(1).toBe(1));\ntest("bad", () => expect(1).toBe(2));\n`);
    writePackage(dir, "broken", `${t}import "./missing.js";\ntest("never runs", () => expect(1).toBe(1));\n`);
  });
  afterAll(() => scratch.remove());

  it("runs every package despite failures and ends with the workspace's total; fails when a test failed", () => {
    const r = sh("node scripts/test.mjs", scratch.dir);
    const out = `${r.stdout}${r.stderr}`;
    expect(r.status, transcript("node scripts/test.mjs", r)).not.toBe(0);
    // every package ran (one failing does not cancel the others) and reported
    for (const name of ["passes", "fails", "broken"]) expect(out).toContain(`${name}:test:`);
    // passed: one, two, good; failed: bad, and the file that did not load; skipped: later
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("3 passed, 2 failed, 1 skipped");
  });

  it("totals a filtered run over the packages it ran, and exits 0 when all passed", () => {
    const r = sh("node scripts/test.mjs --filter passes", scratch.dir);
    expect(r.status, transcript("node scripts/test.mjs --filter passes", r)).toBe(0);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("2 passed, 0 failed, 1 skipped");
  });

  it("counts a package that left no report as a failure, naming it", () => {
    // the test script no longer writes a report (so turbo runs it again, and finds none)
    writeFileSync(
      join(scratch.dir, "packages", "passes", "package.json"),
      JSON.stringify({ name: "passes", private: true, type: "module", scripts: { test: "vitest run" } }),
    );
    const r = sh("node scripts/test.mjs --filter passes", scratch.dir);
    expect(r.status).not.toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.slice(-2)).toEqual(["no test report from: packages/passes (counted as one failure each)", "0 passed, 1 failed, 0 skipped"]);
  });
});
