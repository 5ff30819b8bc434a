import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The repository root. */
export const root = join(new URL(".", import.meta.url).pathname, "../../..");

/** The publishable packages, by folder. */
export const packageDirs = ["tensor", "autograd", "backend-cpu", "backend-webgpu", "nn", "datasets"].map((p) => join(root, "packages", p));

/**
 * Packs every publishable package with pnpm (workspace ranges become versions) into a fresh
 * folder; `remove` deletes it.
 */
export function packAll(): { dir: string; tarballs: Map<string, string>; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "tessera-pack-"));
  for (const pkg of packageDirs) execFileSync("pnpm", ["pack", "--pack-destination", dir], { cwd: pkg, stdio: "pipe" });
  const tarballs = new Map<string, string>();
  for (const f of readdirSync(dir)) {
    const name = f.replace(/^tessera-/, "@tessera/").replace(/-\d+\.\d+\.\d+.*\.tgz$/, "");
    tarballs.set(name, join(dir, f));
  }
  return { dir, tarballs, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh folder in the system's temp dir, and a function that deletes it. */
export function tempFolder(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
