import type { OutputStream } from "../report/progress.js";

/** The world a command runs in: its output streams, working directory and stop signal. */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Relative paths (--out, --data, images) are resolved against this. */
  cwd: string;
  /** Aborted on Ctrl-C: training stops after the current step. */
  signal?: AbortSignal;
  /** Milliseconds between plain progress lines when stdout is not a terminal (default 30000). */
  progressIntervalMs?: number;
}

/** Writes a line to a stream. */
export function println(stream: OutputStream, text = ""): void {
  stream.write(`${text}\n`);
}
