import type { ParsedArgs } from "../cli/args.js";
import { EXIT } from "../cli/errors.js";
import { type CliIo, println } from "../cli/io.js";
import { probeBackends } from "../backend/select.js";
import { cliVersion, machineInfo } from "../report/run-info.js";

/** `lenet-cli info`: which backends start on this machine, and the WebGPU adapter when there is one. */
export async function infoCommand(_args: ParsedArgs, io: CliIo): Promise<number> {
  const m = machineInfo();
  println(io.stdout, `lenet-cli ${cliVersion()} on node ${m.node}, ${m.os} ${m.arch}, ${m.cpus} x ${m.cpu_model}`);
  println(io.stdout, "backends:");
  for (const r of await probeBackends()) {
    const state = r.ok ? "works" : "unavailable";
    println(io.stdout, `  ${r.name.padEnd(8)} ${state}${r.detail ? `: ${r.detail}` : ""}${r.name === "cpu" ? " (default)" : ""}`);
  }
  return EXIT.ok;
}
