import { demoCommand } from "../commands/demo.js";
import { evaluateCommand } from "../commands/evaluate.js";
import { infoCommand } from "../commands/info.js";
import { predictCommand } from "../commands/predict.js";
import { trainCommand } from "../commands/train.js";
import { cliVersion } from "../report/run-info.js";
import { parseArgs } from "./args.js";
import { CliError, EXIT, UsageError, oneLine } from "./errors.js";
import { type CliIo, println } from "./io.js";
import { SYNOPSIS, helpText } from "./usage.js";

/** The line a command other than training prints when Ctrl-C ends it. */
export const INTERRUPTED_LINE = "lenet-cli: interrupted";

/**
 * The exit code of `command`, or 130 as soon as `io.signal` aborts (Ctrl-C): evaluate, predict,
 * demo and info save nothing, so there is nothing to wait for (training stops on its own, after
 * saving). The abandoned command's later result is ignored.
 */
async function untilInterrupted(command: () => Promise<number>, io: CliIo): Promise<number> {
  const signal = io.signal;
  if (!signal) return command();
  if (signal.aborted) {
    println(io.stderr, INTERRUPTED_LINE);
    return EXIT.interrupted;
  }
  let onAbort = () => {};
  const interrupted = new Promise<null>((resolve) => {
    onAbort = () => resolve(null);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  const work = command();
  work.catch(() => undefined); // a failure after the interruption is nobody's to report
  try {
    const code = await Promise.race([work, interrupted]);
    if (code !== null) return code;
    println(io.stderr, INTERRUPTED_LINE);
    return EXIT.interrupted;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** Runs the command line `argv` (without node and the script) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const args = parseArgs(argv);
    if (args.help) {
      println(io.stdout, helpText());
      return EXIT.ok;
    }
    if (args.version) {
      println(io.stdout, cliVersion());
      return EXIT.ok;
    }
    switch (args.command) {
      case "train":
        return await trainCommand(args, io);
      case "evaluate":
        return await untilInterrupted(() => evaluateCommand(args, io), io);
      case "predict":
        return await untilInterrupted(() => predictCommand(args, io), io);
      case "demo":
        return await untilInterrupted(() => demoCommand(args, io), io);
      case "info":
        return await untilInterrupted(() => infoCommand(args, io), io);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      println(io.stderr, `lenet-cli: ${oneLine(err)}`);
      println(io.stderr, SYNOPSIS);
      return EXIT.usage;
    }
    if (err instanceof CliError) {
      println(io.stderr, `lenet-cli: ${oneLine(err)}`);
      return err.exitCode;
    }
    println(io.stderr, `lenet-cli: ${err instanceof Error ? `${err.name}: ${oneLine(err)}` : oneLine(err)}`);
    return EXIT.failure;
  }
}
