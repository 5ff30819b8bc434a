#!/usr/bin/env node
// Packs every publishable package (as `pnpm publish` would) and prints each tarball's size and
// file count, so the packed sizes stay on record and small. Needs `pnpm build` first.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "tessera-pack-"));
try {
  const packages = readdirSync(join(root, "packages"));
  for (const p of packages) execFileSync("pnpm", ["pack", "--pack-destination", dir], { cwd: join(root, "packages", p), stdio: "pipe" });
  console.log("package                              packed     files");
  for (const f of readdirSync(dir).sort()) {
    const files = execFileSync("tar", ["-tzf", join(dir, f)], { encoding: "utf8" })
      .trim()
      .split("\n").length;
    const kb = (statSync(join(dir, f)).size / 1024).toFixed(1);
    console.log(`${f.padEnd(36)} ${`${kb} KB`.padStart(9)} ${String(files).padStart(8)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
