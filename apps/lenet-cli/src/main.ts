#!/usr/bin/env node
import { EXIT } from "./cli/errors.js";
import { runCli } from "./cli/run.js";

// Ctrl-C: the first stops training after the current step (last.safetensors is saved and the
// process exits with 130); a second one quits at once.
const stop = new AbortController();
process.on("SIGINT", () => {
  if (stop.signal.aborted) process.exit(EXIT.interrupted);
  stop.abort();
  process.stderr.write("\nlenet-cli: stopping after the current step (Ctrl-C again to quit now)\n");
});

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  signal: stop.signal,
});
// Exit explicitly: a GPU device (Dawn) would otherwise keep the process alive.
process.exit(code);
