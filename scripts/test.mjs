#!/usr/bin/env node
// `pnpm test`: runs every package's tests through turbo, then prints the workspace's total,
// `N passed, N failed, N skipped`, as the last line. Arguments go to `turbo run test`
// (`pnpm test --filter @tessera/nn`); the total then covers the packages that run.
//
// Turbo runs as many test tasks at once as the machine has cores (each task is a vitest process
// that itself uses the cores), and keeps going after a failure, so one failing package does not
// hide the results of the others.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { delimiter, join } from "node:path";
import { countTests, printCount, reportPath, root } from "./count-tests.mjs";

const args = process.argv.slice(2);
const env = { ...process.env, PATH: `${join(root, "node_modules", ".bin")}${delimiter}${process.env.PATH ?? ""}` };
const turbo = (turboArgs, options) => spawnSync("turbo", turboArgs, { cwd: root, env, ...options });

// The packages this run tests, from turbo's plan: their old reports go first, so the total
// counts only what this run ran (or restored from turbo's cache).
const plan = turbo(["run", "test", "--dry=json", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20 });
if (plan.status !== 0) process.exit(plan.status ?? 1);
const dirs = JSON.parse(plan.stdout)
  .tasks.filter((t) => t.task === "test" && t.command !== "<NONEXISTENT>")
  .map((t) => join(root, t.directory));
for (const dir of dirs) rmSync(reportPath(dir), { force: true });

const run = turbo(["run", "test", "--concurrency=100%", "--continue=dependencies-successful", ...args], { stdio: "inherit" });
const allPassed = printCount(countTests(dirs));
process.exitCode = run.status === 0 && allPassed ? 0 : (run.status ?? 1) || 1;
