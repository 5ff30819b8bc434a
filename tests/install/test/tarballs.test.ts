import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { packAll } from "./packages.js";

describe("published tarballs", () => {
  const { tarballs, remove } = packAll();
  afterAll(remove);
  for (const [name, file] of tarballs) {
    it(`${name} holds dist (ESM, .d.ts, source maps), README, LICENSE and nothing else`, () => {
      const files = execFileSync("tar", ["-tzf", file], { encoding: "utf8" })
        .trim()
        .split("\n")
        .map((f) => f.replace(/^package\//, ""));
      const stray = files.filter((f) => !/^dist\/.*\.(js|d\.ts|js\.map|d\.ts\.map)$/.test(f) && !["README.md", "LICENSE", "package.json"].includes(f));
      expect(stray).toEqual([]);
      expect(files).toContain("dist/index.js");
      expect(files).toContain("dist/index.d.ts");
      expect(files.some((f) => f.endsWith(".js.map"))).toBe(true);
      expect(files).toContain("README.md");
      expect(files).toContain("LICENSE");
      const manifest = JSON.parse(execFileSync("tar", ["-xzOf", file, "package/package.json"], { encoding: "utf8" }));
      expect(JSON.stringify(manifest)).not.toContain("workspace:");
      expect(JSON.stringify(manifest.exports)).not.toContain("@tessera/source");
      // No fixtures or data: every package stays small.
      expect(statSync(file).size).toBeLessThan(200_000);
    });
  }
});
