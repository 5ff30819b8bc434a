import { UsageError } from "./errors.js";
import { type CommandName, FLAG_BY_NAME, type FlagSpec, type FlagValues } from "./flags.js";

/** A parsed command line. */
export interface ParsedArgs {
  command: CommandName;
  /** Only the flags given on the command line (presets and defaults are applied later). */
  flags: Partial<FlagValues>;
  positionals: string[];
  /** `--help` / `-h` / `help` was asked for. */
  help: boolean;
  /** `--version` was asked for. */
  version: boolean;
  /** `--force`: train may write into a --out that already holds files (set only when given). */
  force?: boolean;
}

const COMMANDS: readonly CommandName[] = ["train", "evaluate", "predict", "demo", "info"];

/** How many positional arguments each command takes. */
const POSITIONALS: Record<CommandName, { min: number; max: number; what: string }> = {
  train: { min: 0, max: 0, what: "no arguments" },
  evaluate: { min: 1, max: 1, what: "one CHECKPOINT" },
  predict: { min: 2, max: Number.POSITIVE_INFINITY, what: "a CHECKPOINT and at least one IMAGE" },
  demo: { min: 1, max: 2, what: "'maxpool' or 'conv [IMAGE]'" },
  info: { min: 0, max: 0, what: "no arguments" },
};

function parseValue(spec: FlagSpec, raw: string): FlagValues[keyof FlagValues] {
  const kind = spec.kind;
  const bad = (expected: string) => new UsageError(`${spec.name}: expected ${expected}, got ${JSON.stringify(raw)}`);
  switch (kind.type) {
    case "int": {
      if (!/^[+]?\d+$/.test(raw.trim())) throw bad(kind.min > 0 ? "a positive integer" : "a non-negative integer");
      const v = Number(raw);
      if (!Number.isSafeInteger(v) || v < kind.min || (kind.max !== undefined && v > kind.max)) {
        throw bad(`an integer from ${kind.min} to ${kind.max ?? "any"}`);
      }
      return v;
    }
    case "number": {
      const v = raw.trim() === "" ? Number.NaN : Number(raw);
      if (!Number.isFinite(v) || v <= 0) throw bad("a positive number");
      return v;
    }
    case "path":
      if (raw === "") throw bad("a path");
      return raw;
    case "int-pair": {
      const parts = raw.split(",");
      const ints = parts.map((p) => (/^[+]?\d+$/.test(p.trim()) ? Number(p) : Number.NaN));
      if (parts.length !== 2 || !ints.every((v) => Number.isSafeInteger(v) && v >= kind.min && v <= kind.max)) {
        throw bad(`two integers from ${kind.min} to ${kind.max} separated by a comma (as 20,50)`);
      }
      return ints as [number, number];
    }
    case "choice":
      if (!kind.choices.includes(raw)) throw bad(`one of ${kind.choices.join(", ")}`);
      return raw as FlagValues[keyof FlagValues];
  }
}

/**
 * Parses `argv` (without node and the script). The first word may name a command (train by
 * default). Flags are `--name value` or `--name=value`; a flag given twice, a flag the command
 * does not take, a bad value or a wrong number of arguments throws a `UsageError`.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const args = [...argv];
  // `pnpm start -- --help` hands the script a literal "--" first.
  if (args[0] === "--") args.shift();
  let command: CommandName = "train";
  let help = false;
  let version = false;
  let force = false;
  if (args[0] === "help") {
    args.shift();
    help = true;
  }
  if (args[0] !== undefined && !args[0].startsWith("-")) {
    const word = args[0];
    if (!(COMMANDS as readonly string[]).includes(word)) {
      throw new UsageError(`unknown command ${JSON.stringify(word)} (commands: ${COMMANDS.join(", ")})`);
    }
    command = word as CommandName;
    args.shift();
  }
  const flags: Partial<Record<keyof FlagValues, unknown>> = {};
  const positionals: string[] = [];
  let onlyPositionals = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (onlyPositionals || !arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      onlyPositionals = true;
      continue;
    }
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (arg === "--version" || arg === "-V") {
      version = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    if (name === FORCE) {
      force = parseForce(arg, command, force);
      continue;
    }
    const spec = FLAG_BY_NAME.get(name);
    if (!spec) throw new UsageError(`unknown option ${name}`);
    if (!spec.commands.includes(command)) throw new UsageError(`${name} does not apply to the ${command} command`);
    let raw: string;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith("--") && next.length > 2)) throw new UsageError(`${name} needs a value (${spec.placeholder})`);
      raw = next;
      i++;
    }
    if (spec.key in flags) throw new UsageError(`${name} given twice`);
    flags[spec.key] = parseValue(spec, raw);
  }
  if (!help && !version) {
    const p = POSITIONALS[command];
    if (positionals.length < p.min || positionals.length > p.max) {
      const extra = positionals.length > p.max ? `unexpected argument ${JSON.stringify(positionals[p.max])}` : "missing argument";
      throw new UsageError(`${command}: ${extra} (takes ${p.what})`);
    }
    if (command === "demo") checkDemo(positionals, flags);
  }
  return { command, flags: flags as Partial<FlagValues>, positionals, help, version, ...(force ? { force } : {}) };
}

/** The one flag without a value: `--force` lets train overwrite a --out that holds files. */
const FORCE = "--force";

function parseForce(arg: string, command: CommandName, given: boolean): boolean {
  if (arg !== FORCE) throw new UsageError(`${FORCE} takes no value`);
  if (command !== "train") throw new UsageError(`${FORCE} does not apply to the ${command} command`);
  if (given) throw new UsageError(`${FORCE} given twice`);
  return true;
}

function checkDemo(positionals: string[], flags: Partial<Record<keyof FlagValues, unknown>>): void {
  const which = positionals[0];
  if (which === "maxpool") {
    if (positionals.length > 1) throw new UsageError(`demo maxpool: unexpected argument ${JSON.stringify(positionals[1])}`);
    if ("out" in flags || "backend" in flags) throw new UsageError("demo maxpool takes no options");
  } else if (which !== "conv") {
    throw new UsageError(`demo: unknown demo ${JSON.stringify(which)} (demos: maxpool, conv)`);
  }
}
