import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeBlocks } from "./markdown.js";
import { copyFromRepo, root, scratchDir, sh, transcript } from "./scratch.js";

// docs/adding-a-backend.md, followed literally: its file blocks are written and its `sh`
// blocks run, in the page's order, in a scratch copy of the workspace, as a newcomer would in a
// fresh clone (nothing built).
const GUIDE = "docs/adding-a-backend.md";
const guide = readFileSync(join(root, GUIDE), "utf8");
const blocks = codeBlocks(guide);

/** Every workspace package's manifest (so the lockfile stays valid), and the sources the guide uses. */
function workspaceCopy(dir: string): void {
  copyFromRepo(dir, ["package.json", "pnpm-workspace.yaml", "pnpm-lock.yaml", "tsconfig.base.json"]);
  for (const group of ["packages", "apps", "examples", "tests", "benchmarks"]) {
    for (const name of readdirSync(join(root, group))) copyFromRepo(dir, [`${group}/${name}/package.json`]);
  }
  copyFromRepo(dir, ["packages/tensor/src", "packages/autograd/src", "packages/nn/src", "packages/datasets/src", "examples/backend-minimal/src"]);
}

describe(GUIDE, () => {
  let scratch: ReturnType<typeof scratchDir>;
  beforeAll(() => {
    // inside the repository, so pnpm links from the same store on the same disk
    scratch = scratchDir("backend-guide-", true);
    workspaceCopy(scratch.dir);
  });
  afterAll(() => scratch.remove());

  it("names files and commands in blocks a test can follow", () => {
    expect(blocks.filter((b) => b.file).map((b) => b.file)).toEqual([
      "examples/my-backend/package.json",
      "examples/my-backend/vitest.config.ts",
      "examples/my-backend/tsconfig.json",
      "examples/my-backend/test/conformance.test.ts",
      "examples/my-backend/test/train.test.ts",
    ]);
    expect(blocks.filter((b) => b.lang === "sh").length).toBeGreaterThanOrEqual(4);
  });

  it("shows code of the minimal backend as it is", () => {
    const source = readFileSync(join(root, "examples/backend-minimal/src/index.ts"), "utf8");
    const excerpts = blocks.filter((b) => b.lang === "ts" && !b.file);
    expect(excerpts.length).toBeGreaterThan(0);
    for (const b of excerpts) expect(source, `the excerpt at ${GUIDE}:${b.line}`).toContain(b.code);
    const lines = source.trimEnd().split("\n").length;
    expect(guide).toContain(`a complete\nbackend in **${lines} lines**`);
  });

  it("runs as printed: install, conformance suite, training, typecheck", () => {
    const printed: string[] = [];
    for (const b of blocks) {
      if (b.file) {
        const path = join(scratch.dir, b.file);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, b.code);
      } else if (b.lang === "sh") {
        const r = sh(b.code, scratch.dir);
        expect(r.status, transcript(b.code, r)).toBe(0);
        printed.push(r.stdout);
      }
    }
    // the suites did run, and everything in them passed (vitest's summary lines)
    const plain = printed.map((out) => out.replace(/\x1b\[[0-9;]*m/g, ""));
    const summaries = plain.flatMap((out) => out.match(/Tests\s+\d+ passed.*/g) ?? []);
    expect(summaries).toHaveLength(2);
    const [conformance, training] = summaries.map((line) => Number(line.match(/(\d+) passed/)![1]));
    expect(conformance).toBeGreaterThan(500);
    expect(training).toBe(1);
    for (const line of summaries) expect(line).not.toMatch(/failed|skipped/);
  });
});
