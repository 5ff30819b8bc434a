#!/usr/bin/env node
// `pnpm --filter lenet-cli start ARGS`: builds what the CLI needs (turbo, quietly: its output
// shows only when the build fails), then runs `node dist/main.js ARGS` in this process's place
// as far as a script can: same terminal, same exit code. Ctrl-C reaches the CLI directly (the
// whole process group gets it); this launcher only waits for the CLI to finish saving.
import { spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const app = join(dirname(fileURLToPath(import.meta.url)), "..");
const build = spawnSync("turbo", ["run", "build", "--filter=lenet-cli...", "--output-logs=errors-only"], {
  cwd: app,
  encoding: "utf8",
  shell: process.platform === "win32",
});
if (build.status !== 0) {
  process.stdout.write(build.stdout ?? "");
  process.stderr.write(build.stderr ?? "");
  if (build.error) console.error(`lenet-cli start: cannot run turbo: ${build.error.message}`);
  process.exit(build.status ?? 1);
}

process.on("SIGINT", () => {}); // the CLI decides what Ctrl-C does
const cli = spawn(process.execPath, [join(app, "dist", "main.js"), ...process.argv.slice(2)], { stdio: "inherit" });
cli.on("exit", (code, signal) => {
  if (signal) {
    process.removeAllListeners("SIGINT");
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
