import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CliIo } from "../src/cli/io.js";
import { runCli } from "../src/cli/run.js";

/** An output stream that keeps what is written. */
export class Capture {
  text = "";
  constructor(readonly isTTY = false) {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
  get lines(): string[] {
    return this.text.split("\n").filter((l) => l.length > 0);
  }
}

/** Runs the CLI in-process with captured output. */
export async function cli(argv: string[], options: Partial<CliIo> & { cwd?: string; onStdout?: (text: string) => void } = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  if (options.onStdout) {
    const write = stdout.write.bind(stdout);
    stdout.write = (s: string) => {
      write(s);
      options.onStdout!(s);
      return true;
    };
  }
  const code = await runCli(argv, {
    stdout,
    stderr,
    cwd: options.cwd ?? process.cwd(),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.progressIntervalMs !== undefined ? { progressIntervalMs: options.progressIntervalMs } : {}),
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A fresh temporary directory, removed by the returned function. */
export async function tempDir(prefix = "lenet-cli-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Flags of a small, fast training run: 1000 training images in 50 minibatches of 20. */
export const TINY = ["--limit-train", "1000", "--batch-size", "20", "--limit-valid", "200", "--limit-test", "200"];
