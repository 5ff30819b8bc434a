import { describe, expect, it } from "vitest";
import { parseArgs } from "../src/cli/args.js";
import { UsageError } from "../src/cli/errors.js";
import { FLAGS } from "../src/cli/flags.js";
import { helpText } from "../src/cli/usage.js";
import { asSettings, settingsForResume, settingsFromFlags } from "../src/config/resolve.js";
import { PRESETS } from "../src/config/settings.js";
import { cli } from "./helpers.js";

describe("parseArgs", () => {
  it("defaults to the train command with no flags", () => {
    expect(parseArgs([])).toEqual({ command: "train", flags: {}, positionals: [], help: false, version: false });
  });

  it("reads every training flag, in both spellings", () => {
    const p = parseArgs([
      "--backend",
      "webgpu",
      "--batch-size=50",
      "--lr",
      "0.05",
      "--epochs",
      "3",
      "--patience",
      "400",
      "--seed=7",
      "--limit-train",
      "5000",
      "--limit-valid",
      "100",
      "--limit-test",
      "200",
      "--data",
      "mnist",
      "--out",
      "o",
      "--preset",
      "quick",
      "--kernels",
      "10,20",
      "--filter-size=3",
      "--pool-size",
      "3",
      "--hidden",
      "64",
      "--init",
      "as-drawn",
    ]);
    expect(p.command).toBe("train");
    expect(p.flags).toEqual({
      backend: "webgpu",
      batchSize: 50,
      lr: 0.05,
      epochs: 3,
      patience: 400,
      seed: 7,
      limitTrain: 5000,
      limitValid: 100,
      limitTest: 200,
      data: "mnist",
      out: "o",
      preset: "quick",
      kernels: [10, 20],
      filterSize: 3,
      poolSize: 3,
      hidden: 64,
      init: "as-drawn",
    });
  });

  it("reads commands and their arguments", () => {
    expect(parseArgs(["evaluate", "runs/x"]).positionals).toEqual(["runs/x"]);
    expect(parseArgs(["predict", "m.safetensors", "a.png", "b.jpg"]).positionals).toEqual(["m.safetensors", "a.png", "b.jpg"]);
    expect(parseArgs(["demo", "conv", "pic.jpg", "--out", "d"]).flags.out).toBe("d");
    expect(parseArgs(["demo", "maxpool"]).command).toBe("demo");
    expect(parseArgs(["info"]).command).toBe("info");
    expect(parseArgs(["train", "--resume", "runs/a"]).flags.resume).toBe("runs/a");
  });

  it("drops the '--' pnpm passes before the script's arguments", () => {
    expect(parseArgs(["--", "--help"]).help).toBe(true);
    expect(parseArgs(["--", "--preset", "quick"]).flags.preset).toBe("quick");
  });

  it("reads --force, which takes no value and only applies to train", () => {
    expect(parseArgs(["--out", "runs/x", "--force"]).force).toBe(true);
    expect(parseArgs(["--out", "runs/x"]).force).toBeUndefined();
    expect(() => parseArgs(["--force=yes"])).toThrow(new UsageError("--force takes no value"));
    expect(() => parseArgs(["--force", "--force"])).toThrow(new UsageError("--force given twice"));
    expect(() => parseArgs(["evaluate", "runs/x", "--force"])).toThrow(new UsageError("--force does not apply to the evaluate command"));
  });

  it("asks for help with --help, -h and help", () => {
    expect(parseArgs(["--help"]).help).toBe(true);
    expect(parseArgs(["-h"]).help).toBe(true);
    expect(parseArgs(["help"]).help).toBe(true);
    expect(parseArgs(["evaluate", "--help"]).help).toBe(true);
  });

  const bad: Array<[string[], RegExp]> = [
    [["--frobnicate"], /unknown option --frobnicate/],
    [["--lr"], /--lr needs a value/],
    [["--lr", "--epochs", "3"], /--lr needs a value/],
    [["--lr", "abc"], /--lr: expected a positive number, got "abc"/],
    [["--lr", "0"], /--lr: expected a positive number/],
    [["--lr", "-0.1"], /--lr: expected a positive number/],
    [["--lr", "Infinity"], /--lr: expected a positive number/],
    [["--lr="], /--lr: expected a positive number/],
    [["--batch-size", "0"], /--batch-size: expected an integer from 1/],
    [["--batch-size", "2.5"], /--batch-size: expected a positive integer/],
    [["--batch-size", "1e3"], /--batch-size: expected a positive integer/],
    [["--epochs", "-3"], /--epochs: expected a positive integer/],
    [["--patience", "x"], /--patience: expected a positive integer/],
    [["--seed", "4294967296"], /--seed: expected an integer from 0 to 4294967295/],
    [["--limit-train", "0"], /--limit-train: expected an integer from 1/],
    [["--backend", "tpu"], /--backend: expected one of cpu, webgpu, got "tpu"/],
    [["--preset", "fast"], /--preset: expected one of tutorial, listing, quick/],
    [["--data="], /--data: expected a path/],
    [["--kernels", "20"], /--kernels: expected two integers from 1 to 10000 separated by a comma \(as 20,50\), got "20"/],
    [["--kernels", "20,50,80"], /--kernels: expected two integers/],
    [["--kernels", "20,0"], /--kernels: expected two integers from 1/],
    [["--kernels", "20,x"], /--kernels: expected two integers/],
    [["--filter-size", "0"], /--filter-size: expected an integer from 1 to 28/],
    [["--pool-size", "29"], /--pool-size: expected an integer from 1 to 28/],
    [["--hidden", "-5"], /--hidden: expected a positive integer/],
    [["--init", "flipped"], /--init: expected one of theano-conv, as-drawn, got "flipped"/],
    [["evaluate", "a", "--hidden", "10"], /--hidden does not apply to the evaluate command/],
    [["--epochs", "2", "--epochs", "3"], /--epochs given twice/],
    [["extra"], /unknown command "extra"/],
    [["train", "extra"], /train: unexpected argument "extra"/],
    [["evaluate"], /evaluate: missing argument/],
    [["evaluate", "a", "b"], /evaluate: unexpected argument "b"/],
    [["evaluate", "a", "--lr", "0.1"], /--lr does not apply to the evaluate command/],
    [["predict", "model.safetensors"], /predict: missing argument/],
    [["predict", "m", "a.png", "--epochs", "2"], /--epochs does not apply to the predict command/],
    [["demo"], /demo: missing argument/],
    [["demo", "fft"], /demo: unknown demo "fft"/],
    [["demo", "maxpool", "x.png"], /demo maxpool: unexpected argument/],
    [["demo", "maxpool", "--out", "d"], /demo maxpool takes no options/],
    [["demo", "conv", "a.png", "b.png"], /demo: unexpected argument "b.png"/],
    [["info", "--backend", "cpu"], /--backend does not apply to the info command/],
    [["info", "now"], /info: unexpected argument "now"/],
  ];

  it.each(bad)("refuses %j", (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it("runs every refusal through the CLI as one error line, the usage, and exit code 2", async () => {
    for (const [argv, message] of bad) {
      const r = await cli(argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      const lines = r.stderr.trimEnd().split("\n");
      expect(lines[0]).toMatch(/^lenet-cli: /);
      expect(lines[0]).toMatch(message);
      expect(lines[1]).toMatch(/^Usage: lenet-cli/);
      expect(lines.at(-1)).toBe("Run 'lenet-cli --help' for every option.");
    }
  });

  it("refuses a --limit-train smaller than a minibatch with exit code 2", async () => {
    const r = await cli(["--limit-train", "10", "--batch-size", "20"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe("lenet-cli: --limit-train 10 is smaller than one minibatch (--batch-size 20)");
  });
});

describe("--help", () => {
  it("documents every flag with its default", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(0);
    const text = helpText();
    expect(r.stdout.trimEnd()).toBe(text);
    for (const f of FLAGS) {
      const at = text.indexOf(`  ${f.name} ${f.placeholder}`);
      expect(at, f.name).toBeGreaterThan(0);
      expect(text.slice(at).split("\n")[1]).toMatch(/^\s+default: \S/);
    }
    for (const word of ["evaluate", "predict", "demo maxpool", "demo conv", "info", "--force", "--help", "tutorial", "listing", "quick", "130"])
      expect(text).toContain(word);
    // The start, both ways, and why.
    for (const words of [
      "--init theano-conv (the default) flips each filter",
      "--init as-drawn keeps them unflipped",
      "Cross-correlation (conv2d in Tessera and PyTorch)",
    ])
      expect(text.replace(/\s+/g, " ")).toContain(words);
  });
});

describe("settings", () => {
  it("takes the tutorial's values by default", () => {
    const s = settingsFromFlags({});
    expect(s).toMatchObject({
      preset: "tutorial",
      backend: "cpu",
      batchSize: 500,
      lr: 0.1,
      epochs: 200,
      patience: 10000,
      patienceIncrease: 2,
      improvementThreshold: 0.995,
      seed: 23455,
    });
    expect(s.limitTrain).toBeNull();
  });

  it("builds the chapter's network, started where the tutorial started", () => {
    expect(settingsFromFlags({})).toMatchObject({ init: "theano-conv", kernels: [20, 50], filterSize: 5, poolSize: 2, hidden: 500 });
    for (const preset of ["listing", "quick"] as const) expect(settingsFromFlags({ preset })).toMatchObject({ init: "theano-conv", kernels: [20, 50] });
    expect(settingsFromFlags({ init: "as-drawn", kernels: [6, 16], hidden: 120 })).toMatchObject({
      init: "as-drawn",
      kernels: [6, 16],
      hidden: 120,
      filterSize: 5,
    });
  });

  it("reads a config.json from before the network flags as the network it ran: the tutorial's, as drawn", () => {
    const current = settingsFromFlags({ preset: "quick" });
    const { init, kernels, filterSize, poolSize, hidden, ...older } = current;
    expect(asSettings(older, "config.json")).toEqual({ ...current, init: "as-drawn" });
    expect(asSettings(current, "config.json")).toEqual(current);
    const { hidden: _, ...partial } = current;
    expect(() => asSettings(partial, "config.json")).toThrow("config.json: settings.hidden is missing or invalid");
    expect(() => asSettings({ ...current, kernels: [20] }, "config.json")).toThrow("config.json: settings.kernels is missing or invalid");
  });

  it("lets the listing preset change only the batch size", () => {
    expect(settingsFromFlags({ preset: "listing" })).toEqual({ ...settingsFromFlags({}), preset: "listing", batchSize: 20 });
  });

  it("lets explicit flags override the preset", () => {
    const s = settingsFromFlags({ preset: "quick", batchSize: 7, epochs: 9 });
    expect(s).toMatchObject({ preset: "quick", batchSize: 7, epochs: 9, limitTrain: PRESETS.quick.limitTrain });
  });

  it("keeps a resumed run's settings, overriding what may change and refusing what may not", () => {
    const saved = settingsFromFlags({ preset: "listing", limitTrain: 1000 });
    expect(settingsForResume(saved, { epochs: 5, lr: 0.05, backend: "webgpu" })).toEqual({ ...saved, epochs: 5, lr: 0.05, backend: "webgpu" });
    expect(settingsForResume(saved, { batchSize: 20 })).toEqual(saved);
    expect(() => settingsForResume(saved, { batchSize: 500 })).toThrow(/--batch-size cannot change when resuming \(the run used 20, got 500\)/);
    expect(() => settingsForResume(saved, { limitTrain: 50 })).toThrow(UsageError);
    expect(() => settingsForResume(saved, { seed: 1 })).toThrow(UsageError);
    expect(() => settingsForResume(saved, { patience: 3 })).toThrow(UsageError);
    expect(settingsForResume(saved, { kernels: [20, 50], init: "theano-conv" })).toEqual(saved);
    expect(() => settingsForResume(saved, { kernels: [20, 40] })).toThrow("--kernels cannot change when resuming (the run used 20,50, got 20,40)");
    expect(() => settingsForResume(saved, { init: "as-drawn" })).toThrow("--init cannot change when resuming (the run used theano-conv, got as-drawn)");
  });
});
