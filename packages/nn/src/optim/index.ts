export { Optimizer, type OptimizerOptions, type OptimizerState, type ParamState } from "./optimizer.js";
export { SGD, type SGDOptions } from "./sgd.js";
export { Adam, type AdamOptions } from "./adam.js";
export { LRScheduler, StepLR, ExponentialLR, stepDecay, exponentialDecay, composeSchedules, type Schedule } from "./schedules.js";
