import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Folders never copied into a scratch workspace: installs, builds and reports. */
const SKIPPED = new Set(["node_modules", "dist", ".reports", ".turbo", "runs", "coverage"]);

/** A fresh folder, under the repository's ignored `.tmp/` (`inRepo`) or the system's temp dir. */
export function scratchDir(prefix: string, inRepo = false): { dir: string; remove: () => void } {
  const parent = inRepo ? join(root, ".tmp") : tmpdir();
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Copies `paths` (relative to the repository root) into `dir`, leaving out installs and builds. */
export function copyFromRepo(dir: string, paths: readonly string[]): void {
  for (const p of paths) {
    cpSync(join(root, p), join(dir, p), { recursive: true, filter: (src) => !SKIPPED.has(basename(src)) });
  }
}

/** Makes `dir/node_modules` the repository's own, so tools (turbo, vitest, tsc) resolve without an install. */
export function linkRepoModules(dir: string): void {
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
}

/** Makes each copied package's `node_modules` the repository's own (its own dependencies, e.g. devDependencies). */
export function linkPackageModules(dir: string, packages: readonly string[]): void {
  for (const p of packages) symlinkSync(join(root, p, "node_modules"), join(dir, p, "node_modules"), "dir");
}

/** The environment of a developer's shell: not CI (pnpm would refuse to update a lockfile there). */
export function developerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key === "CI" || key.startsWith("TURBO_") || key.startsWith("npm_") || key.startsWith("PNPM_")) delete env[key];
  return env;
}

/** Runs `command` with bash in `cwd`; the result with stdout and stderr as text. */
export function sh(command: string, cwd: string, env: NodeJS.ProcessEnv = developerEnv()): SpawnSyncReturns<string> {
  return spawnSync("bash", ["-euo", "pipefail", "-c", command], { cwd, env, encoding: "utf8", maxBuffer: 256 << 20 });
}

/** What a failed command printed, for an assertion's message. */
export function transcript(command: string, r: SpawnSyncReturns<string>): string {
  return `$ ${command}\nexit ${r.status}${r.signal ? ` (${r.signal})` : ""}\n${r.stdout}\n${r.stderr}`;
}
