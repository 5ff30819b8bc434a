/** A command line that cannot be run as written (unknown flag, bad value): exit code 2, with the usage. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A run that failed for a reason outside the command line (missing file, no backend, diverged): exit code 1. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/** The first line of an error's message, for one-line reports. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0]!.trim();
}
