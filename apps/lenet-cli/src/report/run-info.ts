import { readFileSync } from "node:fs";
import { cpus, platform, release, arch, totalmem, type } from "node:os";
import { join, resolve } from "node:path";
import { packageRoot } from "../paths.js";

function versionOf(pkgJson: string): string {
  try {
    return (JSON.parse(readFileSync(pkgJson, "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

const TESSERA = ["tensor", "autograd", "nn", "datasets", "backend-cpu", "backend-webgpu"];

/** The version of this CLI. */
export function cliVersion(): string {
  return versionOf(join(packageRoot(), "package.json"));
}

/** Versions of this CLI and of the @tessera packages it runs on ("unknown" when not found). */
export function packageVersions(): Record<string, string> {
  const root = packageRoot();
  const out: Record<string, string> = { "lenet-cli": versionOf(join(root, "package.json")) };
  for (const name of TESSERA) out[`@tessera/${name}`] = versionOf(join(root, "node_modules", "@tessera", name, "package.json"));
  return out;
}

/** The machine a run ran on. */
export function machineInfo(): Record<string, unknown> {
  const list = cpus();
  return {
    os: `${type()} ${release()}`,
    platform: platform(),
    arch: arch(),
    cpus: list.length,
    cpu_model: list[0]?.model?.trim() ?? "unknown",
    memory_bytes: totalmem(),
    node: process.version,
  };
}

/** `runs/<date-time>` (local time, to the second) under `cwd`. */
export function defaultRunDir(cwd: string, date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const stamp = `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}_${p(date.getHours())}-${p(date.getMinutes())}-${p(date.getSeconds())}`;
  return resolve(cwd, "runs", stamp);
}
