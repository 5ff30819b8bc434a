/**
 * lenet-cli as a library: the command runner and the pieces the commands are made of.
 * The executable is `dist/main.js` (`lenet-cli`).
 */
export { runCli } from "./cli/run.js";
export { parseArgs, type ParsedArgs } from "./cli/args.js";
export { UsageError, CliError, EXIT } from "./cli/errors.js";
export type { CliIo } from "./cli/io.js";
export { PRESETS, type TrainSettings, type PresetName, type BackendName } from "./config/settings.js";
export { settingsFromFlags, settingsForResume } from "./config/resolve.js";
export { EarlyStopping, type EarlyStoppingOptions, type EarlyStoppingState } from "@tessera/nn";
export { Trainer, RUN_FILES, type TrainOutcome, type RunSummary, type TrainerOptions } from "./train/trainer.js";
export { errorRate, predictClasses, confusionMatrix } from "./train/evaluate.js";
export { loadRunData, type RunData } from "./data/load.js";
export { learningCurvesSvg } from "./report/charts.js";
export { metricsCsv, type MetricsRow } from "./report/metrics.js";
export { createReporter, type Reporter } from "./report/progress.js";
export { toMnistDigit } from "@tessera/datasets";
export { maxPoolDemoText } from "./demos/maxpool.js";
export { convOpLayer, convOpMaps, convOpPicture } from "./demos/convop.js";
