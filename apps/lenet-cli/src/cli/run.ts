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
        return await evaluateCommand(args, io);
      case "predict":
        return await predictCommand(args, io);
      case "demo":
        return await demoCommand(args, io);
      case "info":
        return await infoCommand(args, io);
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
