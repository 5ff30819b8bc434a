import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The repository root. */
export const root = join(new URL(".", import.meta.url).pathname, "../../..");

/** The publishable packages, by folder. */
export const packageDirs = ["tensor", "autograd", "backend-cpu", "backend-webgpu", "nn", "datasets"].map((p) => join(root, "packages", p));

/** Packs every publishable package with pnpm (workspace ranges become versions) into a fresh folder. */
export function packAll(): { dir: string; tarballs: Map<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), "tessera-pack-"));
  for (const pkg of packageDirs) execFileSync("pnpm", ["pack", "--pack-destination", dir], { cwd: pkg, stdio: "pipe" });
  const tarballs = new Map<string, string>();
  for (const f of readdirSync(dir)) {
    const name = f.replace(/^tessera-/, "@tessera/").replace(/-\d+\.\d+\.\d+.*\.tgz$/, "");
    tarballs.set(name, join(dir, f));
  }
  return { dir, tarballs };
}
