import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shownPath, userCwd } from "../src/cli/user-paths.js";
import { freeRunDir } from "../src/commands/out-dir.js";
import { tempDir } from "./helpers.js";

describe("userCwd", () => {
  const start = { npm_lifecycle_event: "start", npm_package_name: "lenet-cli", INIT_CWD: "/home/me/tessera" };
  it("is where the user ran `pnpm --filter lenet-cli start` (INIT_CWD)", () => {
    expect(userCwd(start, "/home/me/tessera/apps/lenet-cli")).toBe("/home/me/tessera");
  });
  it("is the process's directory otherwise: the bin, node dist/main.js, or a child of another script", () => {
    expect(userCwd({}, "/work")).toBe("/work");
    expect(userCwd({ INIT_CWD: "/elsewhere" }, "/work")).toBe("/work");
    expect(userCwd({ ...start, npm_lifecycle_event: "test" }, "/work")).toBe("/work");
    expect(userCwd({ ...start, npm_package_name: "@tessera/nn" }, "/work")).toBe("/work");
  });
});

describe("shownPath", () => {
  it("adds where a relative path led", () => {
    expect(shownPath("runs/x", "/home/me/runs/x")).toBe("runs/x (/home/me/runs/x)");
    expect(shownPath("/abs/x", "/abs/x")).toBe("/abs/x");
  });
});

describe("the default run directory", () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir();
  });
  afterAll(async () => tmp.cleanup());

  it("is runs/<date-time>, or the first free -2, -3... when a run started in the same second holds it", async () => {
    const base = join(tmp.dir, "runs", "2026-12-01_10-00-00");
    expect(await freeRunDir(base)).toBe(base);
    await mkdir(base, { recursive: true });
    expect(await freeRunDir(base)).toBe(base); // empty: free
    await writeFile(join(base, "config.json"), "{}");
    expect(await freeRunDir(base)).toBe(`${base}-2`);
    await mkdir(`${base}-2`);
    await writeFile(join(`${base}-2`, "config.json"), "{}");
    expect(await freeRunDir(base)).toBe(`${base}-3`);
  });
});
