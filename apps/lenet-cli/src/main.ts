#!/usr/bin/env node
import { EXIT } from "./cli/errors.js";
import { runCli } from "./cli/run.js";
import { userCwd } from "./cli/user-paths.js";

// Ctrl-C aborts `stop`. Training then stops after the current step (last.safetensors is saved
// and the process exits with 130); the other commands have nothing to save, so runCli returns
// 130 at once. A second Ctrl-C quits at once in any case.
const stop = new AbortController();
process.on("SIGINT", () => {
  if (stop.signal.aborted) process.exit(EXIT.interrupted);
  stop.abort();
});

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: userCwd(),
  signal: stop.signal,
});
// Exit explicitly: a GPU device (Dawn) would otherwise keep the process alive, and an
// interrupted command may still have work in flight.
process.exit(code);
